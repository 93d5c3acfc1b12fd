/**
 * npm run bench:secagg — SecAgg+ at n = 100 clients, d = 10^6 coordinates (+1 weight word), dropout 0/10/30%,
 * k as recommended (params.ts) and k = n - 1. Prints per-stage client and server times, bytes each client sends
 * relative to the raw 4 MB update, and the mask-expansion speed of the native kernel vs node:crypto side by side.
 *
 * Before the table: the graph-seed flip (stages S1-S2, seed-flip.ts) at the same n, whose cost does not depend on d:
 * per client, one commitment signed, n commitment signatures verified and n reveals hashed; on the server the same
 * verifications. SECAGG_BENCH_ONLY=seed times it alone.
 *
 * Dropouts happen after key sharing (before masked input): the case that costs the server most, since it must
 * rebuild each dropped client's key and remove its pairwise masks. Env: SECAGG_BENCH_N, SECAGG_BENCH_D to shrink.
 */
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import {
  SecAggClient,
  SecAggServer,
  SeedFlipClient,
  SeedFlipServer,
  loadNativeMaskExpander,
  nativeLoadError,
  nodeMaskExpander,
  type MaskExpander,
  recommendedNeighbours,
  type SecAggConfig,
} from '../src/index.js';

const N = Number(process.env.SECAGG_BENCH_N ?? 100);
const D = Number(process.env.SECAGG_BENCH_D ?? 1_000_000);
const VECTOR = D + 1;
const RAW_BYTES = 4 * D;

function wireBytes(message: unknown): number {
  // socket.io: JSON with a ~30-byte placeholder per binary attachment, binaries sent as they are.
  let binary = 0;
  const json = JSON.stringify(message, (_k, v) => {
    if (v instanceof Uint8Array) {
      binary += v.length;
      return { _placeholder: true, num: 0 };
    }
    return v;
  });
  return json.length + binary;
}

const ms = (t0: number) => performance.now() - t0;
const fmt = (x: number) => x.toFixed(1).padStart(8);

let expander: MaskExpander = nodeMaskExpander;

/** Stages S1-S2 for N clients: median client ms per step and server ms (receive + close) per stage. */
function seedFlipCost(threshold: number) {
  const keys = Array.from({ length: N }, () => nacl.sign.keyPair());
  const roster = keys.map((kp, i) => ({ clientId: `c${String(i).padStart(5, '0')}`, identityPublicKey: kp.publicKey }));
  const params = { federationId: 'bench', roundId: 'seed', roster, threshold };
  const clients = keys.map(
    (kp, i) =>
      new SeedFlipClient({
        ...params,
        clientId: roster[i].clientId,
        identitySecretKey: kp.secretKey,
        randomBytes: (n) => new Uint8Array(randomBytes(n)),
      }),
  );
  const server = new SeedFlipServer(params);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const commitMs: number[] = [];
  const revealMs: number[] = [];
  const finishMs: number[] = [];
  let t0 = performance.now();
  const commits = clients.map((c) => {
    const t = performance.now();
    const m = c.commit();
    commitMs.push(ms(t));
    return m;
  });
  t0 = performance.now();
  for (const m of commits) server.receiveCommit(m);
  const { message: list } = server.closeCommits();
  const serverCommits = ms(t0);
  const reveals = clients.map((c) => {
    const t = performance.now();
    const m = c.reveal(list);
    revealMs.push(ms(t));
    return m;
  });
  t0 = performance.now();
  for (const m of reveals) server.receiveReveal(m);
  const { message: all } = server.closeReveals();
  const serverReveals = ms(t0);
  for (const c of clients) {
    const t = performance.now();
    c.finish(all);
    finishMs.push(ms(t));
  }
  const client = [median(commitMs), median(revealMs), median(finishMs)];
  const fmt = (x: number) => x.toFixed(2).padStart(8);
  console.log(
    `seed flip (S1-S2), n=${N}: client ms (median) commit ${fmt(client[0])} reveal ${fmt(client[1])} finish ` +
      `${fmt(client[2])} total ${fmt(client[0] + client[1] + client[2])} | server ms commits ${fmt(serverCommits)} ` +
      `reveals ${fmt(serverReveals)}`,
  );
}

async function expanderSpeed() {
  const loaded = await loadNativeMaskExpander();
  if (!loaded) console.log(`WARNING: native maskAdd unavailable (${nativeLoadError()}); timing node:crypto only`);
  const native = loaded ?? nodeMaskExpander;
  expander = native;
  const acc = new Uint32Array(D);
  const seed = randomBytes(32);
  const time = async (e: typeof native) => {
    await e.maskAdd(acc, seed, 1);
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) await e.maskAdd(acc, seed, 1);
    return ms(t0) / 10;
  };
  const a = await time(native);
  const b = await time(nodeMaskExpander);
  console.log(
    `mask expansion, ${D} words (${(RAW_BYTES / 2 ** 20).toFixed(1)} MiB): ${native.name} ${a.toFixed(2)} ms ` +
      `(${(RAW_BYTES / a / 1e6).toFixed(2)} GB/s), node:crypto ${b.toFixed(2)} ms (${(RAW_BYTES / b / 1e6).toFixed(2)} GB/s), ratio ${(b / a).toFixed(2)}x`,
  );
}

interface Row {
  k: number;
  t: number;
  dropout: number;
  outcome: string;
  client: number[]; // mean ms per stage 0..4
  server: number[]; // ms per stage close (and receive total) 0..4
  bytesRatio: number;
}

async function runOnce(k: number, t: number, dropout: number): Promise<Row> {
  const ids = Array.from({ length: N }, (_, i) => {
    const kp = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(i + 1));
    return { clientId: `site-${String(i).padStart(3, '0')}`, ...kp };
  });
  const config: SecAggConfig = {
    federationId: 'bench',
    roundId: `k${k}-d${dropout}`,
    roster: ids.map((i) => ({ clientId: i.clientId, identityPublicKey: i.publicKey })),
    threshold: t,
    neighbours: k,
    vectorLength: VECTOR,
    graphSeed: randomBytes(32),
  };
  const server = new SecAggServer({ config, deadline: 1, maskExpander: expander });
  const clients = ids.map(
    (i) =>
      new SecAggClient({
        config,
        clientId: i.clientId,
        identitySecretKey: i.secretKey,
        randomBytes,
        maskExpander: expander,
      }),
  );
  const byId = new Map(clients.map((c) => [c.clientId, c]));
  const clientMs = [0, 0, 0, 0, 0];
  const clientCount = [0, 0, 0, 0, 0];
  const serverMs = [0, 0, 0, 0, 0];
  const sent = new Map<string, number>();
  const input = new Uint32Array(randomBytes(4 * VECTOR).buffer);
  const drop = new Set(
    ids.filter((_, i) => i % Math.round(1 / dropout || Infinity) === 0 && dropout > 0).map((i) => i.clientId),
  );
  while (drop.size > Math.round(dropout * N)) drop.delete([...drop].pop()!);

  const deliver = (stage: number, id: string, reply: unknown) => {
    sent.set(id, (sent.get(id) ?? 0) + wireBytes(reply));
    const t0 = performance.now();
    server.receive(reply, 0);
    serverMs[stage] += ms(t0);
  };
  for (const c of clients) {
    const t0 = performance.now();
    const m = c.advertiseKeys();
    clientMs[0] += ms(t0);
    clientCount[0]++;
    deliver(0, c.clientId, m);
  }
  let t0 = performance.now();
  let out = await server.closeStage(1, 2);
  serverMs[0] += ms(t0);
  for (let stage = 1; stage <= 4 && out.status === 'next'; stage++) {
    for (const [id, msg] of out.messages) {
      if (stage >= 2 && drop.has(id)) continue;
      const c = byId.get(id)!;
      const t1 = performance.now();
      const reply =
        msg.stage === 'key-roster'
          ? c.shareKeys(msg)
          : msg.stage === 'share-route'
            ? await c.maskedInput(msg, input)
            : msg.stage === 'consistency-request'
              ? c.consistencySignature(msg)
              : c.unmaskShares(msg);
      clientMs[stage] += ms(t1);
      clientCount[stage]++;
      deliver(stage, id, reply);
    }
    t0 = performance.now();
    out = await server.closeStage(stage + 2, stage + 3);
    serverMs[stage] += ms(t0);
  }
  let outcome: string = out.status;
  if (out.status === 'done') {
    const m = out.survivors.length;
    const ok = out.sum.every((w, i) => w === Math.imul(input[i], m) >>> 0);
    outcome = ok ? `ok (${m} in sum)` : 'WRONG SUM';
  } else if (out.status === 'aborted') outcome = `aborted ${out.error.code}`;
  const survivorsBytes = [...sent.entries()].filter(([id]) => !drop.has(id)).map(([, b]) => b);
  return {
    k,
    t,
    dropout,
    outcome,
    client: clientMs.map((x, i) => x / Math.max(1, clientCount[i])),
    server: serverMs,
    bytesRatio: Math.max(...survivorsBytes) / RAW_BYTES,
  };
}

async function main() {
  const { loadavg, cpus } = await import('node:os');
  console.log(
    `SecAgg+ benchmark: n=${N}, d=${D}, node ${process.version}, ${new Date().toISOString()}, ` +
      `${cpus().length} CPUs (${cpus()[0]?.model}), load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
  );
  const only = process.env.SECAGG_BENCH_ONLY; // e.g. "30:0.1", or "seed" for the seed flip alone
  seedFlipCost(Math.floor(N / 2) + 1);
  if (only === 'seed') return;
  await expanderSpeed();
  const design = recommendedNeighbours({ clients: N, dropoutRate: 0.1 });
  const heavy = recommendedNeighbours({ clients: N, dropoutRate: 0.3 });
  const full = { neighbours: N - 1, threshold: Math.floor(N / 2) + 1 };
  console.log(
    `recommended (params.ts, failure <= 2^-20): k=${design.neighbours} t=${design.threshold} for 10% dropout; ` +
      `k=${heavy.neighbours} t=${heavy.threshold} for 30%`,
  );
  const plans: [number, number, number][] = [
    [design.neighbours, design.threshold, 0],
    [design.neighbours, design.threshold, 0.1],
    [design.neighbours, design.threshold, 0.3],
    [heavy.neighbours, heavy.threshold, 0.3],
    [full.neighbours, full.threshold, 0],
    [full.neighbours, full.threshold, 0.1],
    [full.neighbours, full.threshold, 0.3],
  ];
  console.log(
    '   k    t drop | client ms: advert   share  masked  consis  unmask   total | server ms: advert   share  masked  consis  unmask | bytes/raw | outcome',
  );
  for (const [k, t, dropout] of plans) {
    if (only && only !== `${k}:${dropout}`) continue;
    const r = await runOnce(k, t, dropout);
    const total = r.client.reduce((a, b) => a + b, 0);
    console.log(
      `${String(r.k).padStart(4)} ${String(r.t).padStart(4)} ${String(r.dropout * 100).padStart(3)}% |          ` +
        r.client.map(fmt).join('') +
        fmt(total) +
        ' |           ' +
        r.server.map(fmt).join('') +
        ` | ${r.bytesRatio.toFixed(4)}    | ${r.outcome}`,
    );
  }
}

await main();
