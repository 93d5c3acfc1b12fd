import { createSeededRandom, shuffleInPlace } from './seeded-random.js';

export type PartitionScheme =
  | { kind: 'iid' }
  | { kind: 'dirichlet'; alpha: number }
  | { kind: 'classes'; perSite: number }
  | { kind: 'by-column'; column: string };

/**
 * Parses the CLI form: `iid`, `dirichlet:ALPHA` (ALPHA > 0), `classes:K` (integer K >= 1) or `by-column:NAME`
 * (tables: sites by a categorical column's values, see partitionByValues).
 */
export function parsePartitionScheme(text: string): PartitionScheme {
  if (typeof text !== 'string') throw new TypeError('partition must be a string');
  if (text === 'iid') return { kind: 'iid' };
  const [kind, arg, extra] = text.split(':');
  const value = Number(arg);
  if (extra === undefined && kind === 'dirichlet' && arg && Number.isFinite(value) && value > 0) {
    return { kind: 'dirichlet', alpha: value };
  }
  if (extra === undefined && kind === 'classes' && arg && Number.isInteger(value) && value >= 1) {
    return { kind: 'classes', perSite: value };
  }
  if (extra === undefined && kind === 'by-column' && arg) return { kind: 'by-column', column: arg };
  throw new RangeError(
    `partition must be iid, dirichlet:ALPHA (ALPHA > 0), classes:K (K >= 1) or by-column:NAME, got '${text}'`,
  );
}

/**
 * Splits row indices among `sites`. Every row goes to exactly one site.
 * - iid: a seeded shuffle cut into equal parts.
 * - dirichlet: for each class, site shares drawn from Dirichlet(alpha) (Hsu, Qi, Brown 2019); small alpha, more skew.
 * - classes: each site holds exactly K distinct classes (the "pathological non-IID" split of McMahan et al. 2017,
 *   made strict), each class's rows divided evenly among the sites holding it; when sites x K is smaller than the
 *   number of classes the remaining classes are dealt out too, so no row is ever dropped.
 */
export function partitionIndices(
  labels: ArrayLike<number>,
  options: {
    sites: number;
    scheme: PartitionScheme;
    seed?: number | string;
    /** by-column: each row's value in the scheme's column */
    columnValues?: readonly string[];
  },
): number[][] {
  const { sites, scheme } = options;
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError(`sites must be a positive integer, got ${sites}`);
  if (sites > labels.length) throw new RangeError(`sites (${sites}) exceeds the number of rows (${labels.length})`);
  const random = createSeededRandom(options.seed ?? 0);
  const rows = Array.from({ length: labels.length }, (_, i) => i);
  switch (scheme.kind) {
    case 'iid': {
      shuffleInPlace(rows, random);
      return cutEvenly(rows, sites);
    }
    case 'classes': {
      const byClass = groupByLabel(shuffleInPlace(rows, random), labels);
      const classes = shuffleInPlace([...byClass.keys()], random);
      // Slot j of site s holds class (s * K + j) mod C: K distinct classes per site (when K <= C), every class
      // held when sites x K >= C; otherwise the classes left over go round-robin so that no row is dropped.
      const holders = new Map<number, number[]>(classes.map((c) => [c, []]));
      const perSite = Math.min(scheme.perSite, classes.length);
      for (let s = 0; s < sites; s++) {
        for (let j = 0; j < perSite; j++) holders.get(classes[(s * perSite + j) % classes.length])!.push(s);
      }
      classes.forEach((c, i) => {
        if (holders.get(c)!.length === 0) holders.get(c)!.push(i % sites);
      });
      const result: number[][] = Array.from({ length: sites }, () => []);
      for (const [label, classRows] of byClass) {
        const owners = holders.get(label)!;
        cutEvenly(classRows, owners.length).forEach((part, i) => result[owners[i]].push(...part));
      }
      return result.map((site) => shuffleInPlace(site, random));
    }
    case 'dirichlet': {
      const byClass = groupByLabel(shuffleInPlace(rows, random), labels);
      const result: number[][] = Array.from({ length: sites }, () => []);
      for (const classRows of byClass.values()) {
        const shares = sampleDirichlet(sites, scheme.alpha, random);
        let start = 0;
        let cumulative = 0;
        shares.forEach((share, s) => {
          cumulative += share;
          const end = s === sites - 1 ? classRows.length : Math.round(cumulative * classRows.length);
          result[s].push(...classRows.slice(start, end));
          start = end;
        });
      }
      return result.map((site) => shuffleInPlace(site, random));
    }
    case 'by-column': {
      if (!options.columnValues || options.columnValues.length !== labels.length)
        throw new RangeError(`partition by-column:${scheme.column} needs the column's value for every row`);
      return partitionByValues(options.columnValues, sites);
    }
    default:
      throw new RangeError(`unknown partition scheme ${(scheme as { kind: string }).kind}`);
  }
}

/**
 * Sites by a categorical column's values (a natural non-IID split: all rows with one value go to one site). Rule:
 * the distinct values in decreasing order of row count (ties: by value, in code-unit order), each given to the
 * site holding the fewest rows so far (ties: the lowest site index), i.e. greedy longest-processing-time
 * balancing. RangeError when there are fewer distinct values than sites (a site would be empty).
 */
export function partitionByValues(values: readonly string[], sites: number): number[][] {
  if (!Array.isArray(values)) throw new TypeError('values must be an array of strings');
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError(`sites must be a positive integer, got ${sites}`);
  const byValue = new Map<string, number[]>();
  values.forEach((v, row) => {
    const group = byValue.get(v);
    if (group) group.push(row);
    else byValue.set(v, [row]);
  });
  if (byValue.size < sites)
    throw new RangeError(`the column has ${byValue.size} distinct values, fewer than the ${sites} sites`);
  const ordered = [...byValue].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const result: number[][] = Array.from({ length: sites }, () => []);
  for (const [, rows] of ordered) {
    let smallest = 0;
    for (let s = 1; s < sites; s++) if (result[s].length < result[smallest].length) smallest = s;
    result[smallest].push(...rows);
  }
  return result.map((site) => site.sort((a, b) => a - b));
}

function groupByLabel(rows: readonly number[], labels: ArrayLike<number>): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  for (const row of rows) {
    const group = byClass.get(labels[row]);
    if (group) group.push(row);
    else byClass.set(labels[row], [row]);
  }
  return new Map([...byClass].sort((a, b) => a[0] - b[0]));
}

function cutEvenly<T>(items: T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, p) =>
    items.slice(Math.floor((p * items.length) / parts), Math.floor(((p + 1) * items.length) / parts)),
  );
}

function sampleDirichlet(size: number, alpha: number, random: () => number): number[] {
  const draws = Array.from({ length: size }, () => sampleGamma(alpha, random));
  const sum = draws.reduce((a, b) => a + b, 0);
  return sum > 0 ? draws.map((d) => d / sum) : draws.map(() => 1 / size);
}

/** Marsaglia and Tsang 2000, with the alpha < 1 boost Gamma(a) = Gamma(a + 1) * U^(1/a). */
function sampleGamma(alpha: number, random: () => number): number {
  if (alpha < 1) return sampleGamma(alpha + 1, random) * Math.pow(random() || Number.MIN_VALUE, 1 / alpha);
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (let attempt = 0; attempt < 10_000; attempt++) {
    let x: number;
    let v: number;
    do {
      x = sampleStandardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
  return d;
}

function sampleStandardNormal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
