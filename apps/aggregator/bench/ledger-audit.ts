/**
 * `npm run bench:audit`: what `concord audit`, GET /budgets and /metrics pay to recompute a ledger. A synthetic
 * chain of SITES x ROUNDS signed local-DP receipts; side by side in one run: the chain verification alone
 * (hashes + Ed25519 signatures), the full audit (+ epsilon per site + cap crossing by binary search), and the naive
 * cap check (one accountant call per entry) that the binary search replaces.
 */
import { createHash } from 'node:crypto';
import { computeEpsilon, type Phase } from '@concord/dp';
import { ed25519PublicKeyFromSeed, receiptHash, signReceipt, type PrivacyReceipt } from '@concord/protocol';
import { GENESIS_HASH, computeEntryHash } from '../src/ledger/chain.js';
import { verifyLedgerEntries, type LedgerEntryInput } from '../src/ledger/verify.js';
import { auditLedger, phaseOfReceipt } from '../src/ledger/audit.js';

const SITES = Number(process.env.BENCH_SITES ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);

const seedOf = (site: string) => new Uint8Array(createHash('sha256').update(site).digest());
const sites = Array.from({ length: SITES }, (_, i) => `site-${i}`);
const entries: LedgerEntryInput[] = [];
const last = new Map<string, { sequence: number; hash: string }>();
let prev = GENESIS_HASH;
for (let r = 0; r < ROUNDS; r++) {
  for (const siteId of sites) {
    const before = last.get(siteId);
    const receipt: PrivacyReceipt = {
      version: 1,
      federationId: 'bench',
      siteId,
      roundId: `round-${r}`,
      sequence: (before?.sequence ?? 0) + 1,
      previousReceiptHash: before?.hash ?? null,
      mode: 'local',
      sampleRate: 0.02,
      noiseMultiplier: 1,
      steps: 50,
      clipNorm: 1,
      delta: 1e-5,
      cap: { epsilon: 100, delta: 1e-5 },
    };
    const body = {
      federationId: 'bench',
      seq: entries.length + 1,
      siteId,
      roundId: receipt.roundId,
      receiptHash: receiptHash(receipt),
      signature: signReceipt(receipt, seedOf(siteId)),
      recordedAt: new Date(1_700_000_000_000 + entries.length).toISOString(),
    };
    const entryHash = computeEntryHash(prev, body);
    entries.push({ ...body, receipt, prevHash: prev, entryHash });
    last.set(siteId, { sequence: receipt.sequence, hash: body.receiptHash });
    prev = entryHash;
  }
}
const keys = new Map(sites.map((s) => [s, ed25519PublicKeyFromSeed(seedOf(s))]));

function naiveCapCheck(): number {
  const phases = new Map<string, Phase[]>();
  let checks = 0;
  for (const e of entries) {
    const receipt = e.receipt as PrivacyReceipt;
    const list = phases.get(e.siteId) ?? [];
    list.push(phaseOfReceipt(receipt));
    phases.set(e.siteId, list);
    if (computeEpsilon(list, receipt.cap.delta).epsilon > receipt.cap.epsilon) checks++;
  }
  return checks;
}

const time = (f: () => unknown) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
time(() => auditLedger({ entries: entries.slice(0, 200), publicKeys: keys })); // JIT warm-up
const verify = time(() => verifyLedgerEntries(entries, keys));
const audit = time(() => auditLedger({ entries, publicKeys: keys }));
const naive = time(naiveCapCheck);
console.log(`ledger: ${entries.length} entries (${SITES} sites x ${ROUNDS} rounds), local-DP receipts`);
console.log(
  `verifyLedgerEntries (hashes + signatures): ${verify.toFixed(0)} ms (${((verify * 1000) / entries.length).toFixed(0)} us/entry)`,
);
console.log(
  `auditLedger (verify + epsilon + caps):      ${audit.toFixed(0)} ms (${(audit / verify).toFixed(2)}x verify)`,
);
console.log(
  `naive cap check (accountant per entry):     ${naive.toFixed(0)} ms (${(naive / (audit - verify)).toFixed(1)}x the audit's accounting part)`,
);
