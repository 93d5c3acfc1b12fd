import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import {
  DEFAULT_P_THRESHOLD,
  type ModelSpec,
  type SafetensorsModel,
  type WatermarkKey,
  WatermarkError,
  parseKey,
  readSafetensors,
  serializeKey,
  sha256Hex,
  traceLeak,
  verifyWatermark,
} from '@concord/watermark';
import { CliError, parseNumberFlag, printJson } from '@concord/cli';

interface VerifyFlags {
  model?: string;
  key?: string;
  reference?: string;
  threshold?: string;
  json?: boolean;
}

interface TraceFlags {
  model?: string;
  keys?: string;
  threshold?: string;
  json?: boolean;
}

/** Writes a key file readable by its owner only (0600), as keys live in the aggregator's key directory. */
export function writeWatermarkKeyFile(path: string, key: WatermarkKey): void {
  writeFileSync(path, serializeKey(key), { mode: 0o600 });
  chmodSync(path, 0o600); // writeFileSync's mode applies only when it creates the file
}

/** Reads a key file; an unreadable or malformed key is bad input (exit 2). Secrets never reach the message. */
export function readWatermarkKeyFile(path: string, flag = '--key'): WatermarkKey {
  const text = readText(path, flag);
  let key: WatermarkKey;
  try {
    key = parseKey(text, `${flag} '${path}'`);
  } catch (error) {
    throw toCliError(error);
  }
  warnIfReadableByOthers(path);
  return key;
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`${flag}: cannot read '${path}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

function warnIfReadableByOthers(path: string): void {
  try {
    if ((statSync(path).mode & 0o077) !== 0) {
      process.stderr.write(`concord: warning: key file '${path}' is readable by others; chmod 600 it\n`);
    }
  } catch {
    // already reported by the read
  }
}

function readModel(path: string, flag: string): { model: SafetensorsModel; sha256: string } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new CliError(`${flag}: cannot read '${path}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  try {
    return { model: readSafetensors(bytes), sha256: sha256Hex(bytes) };
  } catch (error) {
    throw toCliError(error, `${flag} '${path}': `);
  }
}

/** Coded library errors and guard errors are bad input: one line, exit 2. */
function toCliError(error: unknown, prefix = ''): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof WatermarkError) return new CliError(`${prefix}${error.message}`, 2, error.code);
  if (error instanceof TypeError || error instanceof RangeError) return new CliError(`${prefix}${error.message}`, 2);
  throw error;
}

function sameShape(a: ModelSpec, b: ModelSpec): boolean {
  return (
    a.inputSize === b.inputSize &&
    a.layers.length === b.layers.length &&
    a.layers.every((l, i) => l.units === b.layers[i].units)
  );
}

function thresholdFlag(raw: string | undefined, fallback: number): number {
  const value = raw ?? process.env.CONCORD_WATERMARK_THRESHOLD;
  if (value === undefined) return fallback;
  return parseNumberFlag('--threshold', value, { min: 0, minExclusive: true, max: 1, maxExclusive: true });
}

function formatP(p: number, log10: number): string {
  return p > 0 ? p.toExponential(2) : `1e${log10.toFixed(1)}`;
}

function runVerify(flags: VerifyFlags): void {
  if (!flags.model) throw new CliError('--model is required');
  if (!flags.key) throw new CliError('--key is required');
  const key = readWatermarkKeyFile(flags.key);
  const { model, sha256 } = readModel(flags.model, '--model');
  const threshold = thresholdFlag(flags.threshold, key.threshold ?? DEFAULT_P_THRESHOLD);
  // The reference copy is optional: the carrier is symmetry-invariant, so the p-value needs only the key.
  // When one is named (flag, or the key's `reference` beside the key file) it is checked to be a model of the
  // same shape that carries the watermark, and its result is reported next to the suspect's.
  const referencePath =
    flags.reference ?? (key.reference ? join(dirname(resolve(flags.key)), key.reference) : undefined);
  let result;
  let reference: { file: string; sha256: string; present: boolean; bitErrorRate: number } | undefined;
  try {
    result = verifyWatermark(model.spec, model.weights, key, { threshold });
    if (referencePath) {
      const ref = readModel(referencePath, '--reference');
      if (!sameShape(ref.model.spec, model.spec)) {
        throw new CliError(`--reference '${referencePath}': layer sizes differ from the model's`);
      }
      const r = verifyWatermark(ref.model.spec, ref.model.weights, key, { threshold });
      reference = { file: referencePath, sha256: ref.sha256, present: r.present, bitErrorRate: r.bitErrorRate };
    }
  } catch (error) {
    throw toCliError(error);
  }
  const document = {
    present: result.present,
    bitErrorRate: result.bitErrorRate,
    pValue: result.pValue,
    log10PValue: result.log10PValue,
    threshold,
    matches: result.matches,
    bitCount: result.bitCount,
    federationId: key.federationId,
    keyRole: key.role,
    ...(key.siteId !== undefined ? { siteId: key.siteId } : {}),
    model: { file: flags.model, sha256, specInferred: model.specInferred },
    ...(reference ? { reference } : {}),
  };
  if (flags.json) printJson(document);
  else {
    const verdict = result.present ? 'watermark PRESENT' : 'watermark not found';
    process.stdout.write(
      `${verdict}: ${result.matches}/${result.bitCount} bits match (bit error rate ${result.bitErrorRate.toFixed(3)}), ` +
        `p = ${formatP(result.pValue, result.log10PValue)} ${result.present ? '<' : '>='} ${threshold}\n`,
    );
    if (reference) {
      process.stdout.write(
        `reference ${basename(reference.file)}: ${reference.present ? 'carries' : 'does NOT carry'} the watermark\n`,
      );
    }
  }
  if (!result.present) process.exitCode = 1;
}

/** A directory (every *.json key in it, fingerprint keys kept) or a file (one key or a JSON array of keys). */
function loadFingerprintKeys(path: string): WatermarkKey[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new CliError(`--keys: cannot read '${path}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const keys: WatermarkKey[] = [];
  const addFrom = (file: string, value: unknown) => {
    for (const [i, item] of (Array.isArray(value) ? value : [value]).entries()) {
      const isKey = typeof item === 'object' && item !== null && 'scheme' in item && 'seed' in item;
      if (!isKey) {
        if (isDirectory) continue; // other JSON in a key directory (signing key, certificates) is not ours
        throw new CliError(`--keys '${file}': entry ${i} is not a watermark key`);
      }
      try {
        keys.push(parseKey(JSON.stringify(item), `--keys '${file}'`));
      } catch (error) {
        throw toCliError(error);
      }
    }
  };
  const files = isDirectory
    ? readdirSync(path)
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => join(path, name))
    : [path];
  for (const file of files) {
    const text = readText(file, '--keys');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (isDirectory) continue;
      throw new CliError(`--keys '${file}': not valid JSON`);
    }
    warnIfReadableByOthers(file);
    addFrom(file, value);
  }
  const fingerprints = keys.filter((k) => k.role === 'fingerprint');
  if (fingerprints.length === 0) throw new CliError(`--keys '${path}': no fingerprint keys found`);
  const federations = new Set(fingerprints.map((k) => k.federationId));
  if (federations.size > 1)
    throw new CliError(
      `--keys '${path}': fingerprint keys of ${federations.size} federations; give one federation's keys`,
    );
  return fingerprints;
}

function runTrace(flags: TraceFlags): void {
  if (!flags.model) throw new CliError('--model is required');
  if (!flags.keys) throw new CliError('--keys is required');
  const keys = loadFingerprintKeys(flags.keys);
  const { model, sha256 } = readModel(flags.model, '--model');
  const threshold = thresholdFlag(flags.threshold, DEFAULT_P_THRESHOLD);
  let result;
  try {
    result = traceLeak(model.spec, model.weights, keys, { threshold });
  } catch (error) {
    throw toCliError(error);
  }
  const best = result.candidates[0];
  const document = {
    site: result.site,
    pValue: result.pValue,
    threshold,
    correction: 'bonferroni',
    sitesCompared: keys.length,
    federationId: keys[0].federationId,
    model: { file: flags.model, sha256 },
    candidates: result.candidates.slice(0, 5).map((c) => ({
      siteId: c.siteId,
      bitErrorRate: c.bitErrorRate,
      pValue: c.pValue,
      adjustedPValue: c.adjustedPValue,
    })),
  };
  if (flags.json) printJson(document);
  else if (result.site !== null) {
    process.stdout.write(
      `leaked copy traced to site ${result.site}: bit error rate ${best.bitErrorRate.toFixed(3)}, ` +
        `p = ${formatP(result.pValue, best.log10PValue)} (Bonferroni over ${keys.length} sites) < ${threshold}\n`,
    );
  } else {
    process.stdout.write(
      `no site matches: best ${best.siteId} with p = ${result.pValue.toExponential(2)} (Bonferroni over ${keys.length} sites) >= ${threshold}\n`,
    );
  }
  if (result.site === null) process.exitCode = 1;
}

/** `concord watermark verify | trace`: ownership proof and leak tracing for a safetensors model (issue 7). */
export function register(program: Command): void {
  const watermark = program
    .command('watermark')
    .description('prove a model carries the federation watermark, or trace a leaked copy to its site');
  watermark
    .command('verify')
    .description(
      "extract the key's bits from a model; exit 0 when the watermark is present, 1 when not, 2 on bad input",
    )
    .option('--model <file>', 'model in safetensors format')
    .option('--key <file>', 'watermark key JSON (owner or fingerprint key)')
    .option(
      '--reference <file>',
      "owner's reference copy, checked and reported beside the verdict (default: the key's `reference`)",
    )
    .option(
      '--threshold <p>',
      `p-value below which the watermark counts as present (default: the key's, ${DEFAULT_P_THRESHOLD}; env CONCORD_WATERMARK_THRESHOLD)`,
    )
    .option('--json', 'print one JSON object')
    .action((flags: VerifyFlags) => runVerify(flags));
  watermark
    .command('trace')
    .description('name the site whose fingerprint a leaked model carries; exit 0 on a match, 1 on none, 2 on bad input')
    .option('--model <file>', 'leaked model in safetensors format')
    .option(
      '--keys <dir|file>',
      'key directory, or a file with one key or a JSON array of keys (fingerprint keys are used)',
    )
    .option(
      '--threshold <p>',
      `Bonferroni-corrected p-value below which a site is named (default ${DEFAULT_P_THRESHOLD}; env CONCORD_WATERMARK_THRESHOLD)`,
    )
    .option('--json', 'print one JSON object')
    .action((flags: TraceFlags) => runTrace(flags));
}
