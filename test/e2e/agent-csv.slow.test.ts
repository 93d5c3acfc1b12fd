/**
 * Issue 18's "done when": two real `concord-agent run --data FILE.csv` processes, each with a shard of UCI Adult as
 * a site would hold it (a header row, categorical columns, `?` for missing values, raw label text), federate
 * examples/adult.yaml (schema-driven public preprocessing, sigmoid logistic regression, local DP) through a real
 * aggregator over loopback socket.io with SecAgg+. Both exit 0 after the last round, every round is charged on
 * both ledgers, and the released model ranks the official Adult test set far better than chance. A CSV that breaks
 * the schema is refused before connecting, with the file's line and the column.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADULT_COLUMNS, loadAdult, readVendoredRows, rocAuc } from '@concord/datasets';
import { parseFederationSpecText } from '@concord/fedopt';
import { predict } from '@concord/native';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { FederationRunnerService } from '../../apps/aggregator/src/services/federation-runner.service.js';
import { startTestAggregator, type TestAggregator } from '../support/aggregator.js';
import { AGENT_BIN, runCliAsync } from '../support/cli.js';

const ROUNDS = 4;
/** training rounds plus the private evaluations of versions 2 and 4 (the spec's default: every ceil(4 / 3) = 2) */
const CHARGES = ROUNDS + 2;
const SITES = 2;
const ROWS_PER_SITE = 3000;
let aggregator: TestAggregator;

beforeAll(async () => {
  aggregator = await startTestAggregator();
});
afterAll(async () => {
  await aggregator?.close();
});

/** One site's CSV: a header, then Adult's raw values (`?` kept) in a shuffled column order. */
function writeShard(dir: string, rows: Record<string, string>[]): string {
  const header = [...ADULT_COLUMNS].reverse();
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const file = join(dir, 'adult-shard.csv');
  writeFileSync(file, [header.join(','), ...rows.map((r) => header.map((c) => quote(r[c])).join(','))].join('\n'));
  return file;
}

async function enroll(federationId: string): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'agent-csv-')), 'state');
  const token = await aggregator.issueToken(federationId);
  const enrolled = await runCliAsync(AGENT_BIN, [
    'enroll',
    '--server',
    aggregator.server.url,
    '--token',
    token,
    '--max-epsilon',
    '3.001',
    '--delta',
    '1e-5',
    '--state-dir',
    dir,
  ]);
  expect(enrolled.status, enrolled.stderr).toBe(0);
  return dir;
}

const spec = () => {
  const parsed = parseFederationSpecText(readFileSync(new URL('../../examples/adult.yaml', import.meta.url), 'utf8'));
  return { ...parsed, rounds: ROUNDS, privacy: { mode: 'local', epsilon: 3, delta: 1e-5 }, cohort: { size: SITES } };
};

it('federates Adult CSV shards with categorical and missing values end to end', async () => {
  const federationId = await aggregator.createFederation({ ...spec(), name: 'adult-csv' }, SITES);
  const rows = readVendoredRows('adult-train');
  const dirs = [await enroll(federationId), await enroll(federationId)];
  const files = dirs.map((_, i) => {
    const shard = rows.slice(i * ROWS_PER_SITE, (i + 1) * ROWS_PER_SITE);
    expect(shard.some((r) => r.occupation === '?')).toBe(true); // the shards carry missing values
    return writeShard(mkdtempSync(join(tmpdir(), 'adult-shard-')), shard);
  });
  const runs = dirs.map((dir, i) =>
    runCliAsync(AGENT_BIN, ['run', '--state-dir', dir, '--data', files[i], '--label-column', 'income', '--json'], {
      timeoutMs: 600_000,
    }),
  );
  const summary = await aggregator.server.app.get(FederationRunnerService).start(federationId);
  expect(summary.released).toBe(ROUNDS);
  const results = await Promise.all(runs);
  for (const [i, result] of results.entries()) {
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', rounds: ROUNDS, charges: CHARGES });
    expect(readFileSync(join(dirs[i], 'ledger.jsonl'), 'utf8').trim().split('\n')).toHaveLength(CHARGES);
  }
  const ledger = aggregator.server.app.get(LedgerRepository);
  expect((await ledger.verifyLedger(federationId)).findings).toEqual([]);
  expect((await ledger.entries(federationId)).length).toBe(CHARGES * SITES);

  // the released logistic regression, scored on the official test set encoded by the same public schema
  const { test } = loadAdult();
  const model = {
    inputSize: 121,
    layers: [{ units: 1, activation: 'none' as const }],
    loss: 'sigmoid-binary-cross-entropy' as const,
  };
  const auc = rocAuc(await predict(model, summary.weights, test.features), test.labels);
  expect(auc).toBeGreaterThan(0.75);
}, 600_000);

it('refuses a shard that breaks the schema before connecting, naming the line and the column', async () => {
  const federationId = await aggregator.createFederation({ ...spec(), name: 'adult-csv-bad' }, SITES);
  const dir = await enroll(federationId);
  const rows = readVendoredRows('adult-train').slice(0, 5);
  const csvDir = mkdtempSync(join(tmpdir(), 'adult-bad-'));
  const cases: [Record<string, string>, RegExp][] = [
    [{ age: 'forty' }, /line 4, column age: expected a finite number, got 'forty'/],
    [{ income: '>50K.' }, /line 4, column income: '>50K\.' is not one of the classes <=50K, >50K/],
    [{ 'capital-gain': '?' }, /line 4, column capital-gain: expected a finite number, got '\?'/],
  ];
  for (const [change, message] of cases) {
    const bad = rows.map((r, i) => (i === 2 ? { ...r, ...change } : r));
    const file = writeShard(mkdtempSync(join(csvDir, 'case-')), bad);
    const result = await runCliAsync(AGENT_BIN, [
      'run',
      '--state-dir',
      dir,
      '--data',
      file,
      '--label-column',
      'income',
    ]);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(2);
  }
}, 120_000);
