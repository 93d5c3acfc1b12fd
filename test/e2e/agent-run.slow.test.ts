/**
 * Two real `concord-agent run` processes (MNIST shards, local DP-SGD) federate through a real aggregator over
 * loopback socket.io with SecAgg+: each exits 0 after the last round, its own ledger file holds exactly its
 * charges, and the aggregator's ledger holds one verified entry per site and round. The spec states the records per
 * site, so the plans carry words sized from the data (issue 20).
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { FederationRunnerService } from '../../apps/aggregator/src/services/federation-runner.service.js';
import { startTestAggregator, type TestAggregator } from '../support/aggregator.js';
import { AGENT_BIN, runCliAsync } from '../support/cli.js';

const ROUNDS = 2;
const SITES = 2;
/** training rounds plus private evaluations: the spec's default evaluates every ceil(2 / 3) = 1 version */
const CHARGES = 2 * ROUNDS;
let aggregator: TestAggregator;

beforeAll(async () => {
  aggregator = await startTestAggregator();
});
afterAll(async () => {
  await aggregator?.close();
});

it('trains a federation of real agent processes to the end, charging every round on both ledgers', async () => {
  const federationId = await aggregator.createFederation(
    {
      name: 'agent-run',
      dataset: { kind: 'mnist' },
      rounds: ROUNDS,
      privacy: { mode: 'local', epsilon: 3, delta: 1e-5 },
      // issue 20: the operator states the records per site, so serve sizes the words (a narrow SecAgg+ modulus) and
      // the agents re-derive and accept it; each shard holds 4,000 digits, 80 % of them for training
      encoding: { recordsPerSite: 3_200 },
    },
    SITES,
  );
  const dirs = Array.from({ length: SITES }, () => join(mkdtempSync(join(tmpdir(), 'agent-run-')), 'state'));
  for (const dir of dirs) {
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
  }
  const runs = dirs.map((dir, i) =>
    runCliAsync(
      AGENT_BIN,
      ['run', '--state-dir', dir, '--dataset', 'mnist', '--shard', `${i}/${SITES}`, '--seed', '3', '--json'],
      {
        timeoutMs: 600_000,
      },
    ),
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
    expect(lines.some((l) => l.type === 'plan-accepted')).toBe(true);
    const final = lines.at(-1)!;
    expect(final.type).toBe('summary');
    // each site is charged for every training round and every private evaluation (versions 1 and 2 at 2 rounds)
    expect(final).toMatchObject({ rounds: ROUNDS, charges: CHARGES });
    expect(final.epsilonSpent).toBeGreaterThan(0);
    expect(final.epsilonSpent).toBeLessThanOrEqual(3.001);
    const local = readFileSync(join(dirs[i], 'ledger.jsonl'), 'utf8').trim().split('\n');
    expect(local).toHaveLength(CHARGES);
  }
  const ledger = aggregator.server.app.get(LedgerRepository);
  const verification = await ledger.verifyLedger(federationId);
  expect(verification.findings).toEqual([]);
  expect((await ledger.entries(federationId)).length).toBe(CHARGES * SITES);
});
