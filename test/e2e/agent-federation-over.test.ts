/**
 * The real `concord-agent run` against a federation that will never run another round (real aggregator, socket.io,
 * PGlite): completed or archived, it exits 0 with one line; exhausted, exit 1 with the reason; never "reconnecting".
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FederationRepository } from '../../apps/aggregator/src/repositories/federation.repository.js';
import { startTestAggregator, type TestAggregator } from '../support/aggregator.js';
import { AGENT_BIN, runCliAsync } from '../support/cli.js';

let aggregator: TestAggregator;
let federationId: string;
let dir: string;

beforeAll(async () => {
  aggregator = await startTestAggregator();
  federationId = await aggregator.createFederation(
    { name: 'over', dataset: { kind: 'mnist' }, rounds: 1, privacy: { mode: 'local', epsilon: 3, delta: 1e-5 } },
    2,
  );
  dir = join(mkdtempSync(join(tmpdir(), 'agent-over-')), 'state');
  const token = await aggregator.issueToken(federationId);
  const enrolled = await runCliAsync(AGENT_BIN, [
    'enroll',
    '--server',
    aggregator.server.url,
    '--token',
    token,
    '--max-epsilon',
    '3',
    '--delta',
    '1e-5',
    '--state-dir',
    dir,
  ]);
  if (enrolled.status !== 0) throw new Error(enrolled.stderr);
}, 120_000);

afterAll(async () => {
  await aggregator?.close();
});

const run = () =>
  runCliAsync(AGENT_BIN, ['run', '--state-dir', dir, '--dataset', 'mnist', '--shard', '0/2'], { timeoutMs: 120_000 });

describe('concord-agent run against a federation that is over', { timeout: 180_000 }, () => {
  it.each(['completed', 'archived'] as const)('%s: exit 0 with one line, no retry', async (status) => {
    await aggregator.server.app.get(FederationRepository).setStatus(federationId, status);
    const r = await run();
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(
      `federation ${federationId} is over (the federation is ${status}: no more rounds); nothing to do`,
    );
    expect(r.stderr).not.toMatch(/reconnecting|retrying|error E_/);
    expect(lines.filter((l) => /is over/.test(l))).toHaveLength(1);
  });

  it('exhausted: exit 1 with the reason the aggregator gives', async () => {
    const federations = aggregator.server.app.get(FederationRepository);
    await federations.setStatus(federationId, 'exhausted');
    const message = 'exhausted: 1 of 3 sites have budget for another round, need 2';
    await federations.setStatusReason(federationId, { code: 'E_BUDGET_EXHAUSTED', message });
    const r = await run();
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      `concord-agent: federation ${federationId} is exhausted (${message})`,
    );
    expect(r.stderr).not.toMatch(/reconnecting|retrying|error E_/);
  });
});

describe('concord-agent enroll with a cap below one round', { timeout: 180_000 }, () => {
  it('is refused with the reason (exit 1, E_CAP_TOO_LOW) and the token stays usable', async () => {
    const other = await aggregator.createFederation(
      { name: 'caps', dataset: { kind: 'mnist' }, rounds: 1, privacy: { mode: 'local', epsilon: 3, delta: 1e-5 } },
      2,
    );
    const token = await aggregator.issueToken(other);
    const enroll = (cap: string) =>
      runCliAsync(AGENT_BIN, [
        'enroll',
        '--server',
        aggregator.server.url,
        '--token',
        token,
        '--max-epsilon',
        cap,
        '--delta',
        '1e-5',
        '--state-dir',
        join(mkdtempSync(join(tmpdir(), 'agent-cap-')), 'state'),
      ]);
    const low = await enroll('0.01');
    expect(low.status).toBe(1);
    expect(low.stderr).toMatch(
      /enrollment refused \(E_CAP_TOO_LOW\): cap epsilon 0.01 cannot cover one round of this federation \(one round costs epsilon \d+\.\d{4} at delta 0.00001\)/,
    );
    const enough = await enroll('3');
    expect(enough.status, enough.stderr).toBe(0);
  });
});
