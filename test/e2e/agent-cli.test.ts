/**
 * The real `concord-agent` binary against a real aggregator (Nest, socket.io, PGlite): enrollment and the refusals
 * a site operator meets before any training starts.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAggregator, type TestAggregator } from '../support/aggregator.js';
import { AGENT_BIN, runCliAsync } from '../support/cli.js';

let aggregator: TestAggregator;
let federationId: string;

beforeAll(async () => {
  aggregator = await startTestAggregator();
  federationId = await aggregator.createFederation(
    { name: 'agent-cli', dataset: { kind: 'mnist' }, rounds: 1, privacy: { mode: 'local', epsilon: 3, delta: 1e-5 } },
    2,
  );
});
afterAll(async () => {
  await aggregator?.close();
});

const stateDir = () => join(mkdtempSync(join(tmpdir(), 'agent-e2e-')), 'state');
const enroll = (token: string, dir: string, extra: string[] = []) =>
  runCliAsync(AGENT_BIN, [
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
    '--json',
    ...extra,
  ]);

describe('concord-agent enroll', () => {
  it('registers the site, pins the aggregator key and keeps the private keys in a 0600 file', async () => {
    const dir = stateDir();
    const result = await enroll(await aggregator.issueToken(federationId), dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ federationId, cap: { epsilon: 3, delta: 1e-5 } });
    const stateFile = join(dir, 'site.json');
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state.serverPublicKey).toBe(summary.serverPublicKey);
    expect(result.stdout).not.toContain(state.identity.seed);
    expect(result.stdout).not.toContain(state.agreement.privateKey);
  });

  it('refuses a token used twice (exit 1, with the server code) and a made-up token', async () => {
    const token = await aggregator.issueToken(federationId);
    expect((await enroll(token, stateDir())).status).toBe(0);
    const again = await enroll(token, stateDir());
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^concord-agent: enrollment refused \(E_[A-Z_]+\)/);
    const bogus = await enroll('x'.repeat(32), stateDir());
    expect(bogus.status).toBe(1);
  });

  it('refuses to overwrite an existing enrollment', async () => {
    const dir = stateDir();
    expect((await enroll(await aggregator.issueToken(federationId), dir)).status).toBe(0);
    const second = await enroll(await aggregator.issueToken(federationId), dir);
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(/already holds an enrollment/);
  });

  it.each([
    [['--max-epsilon', '-1'], /--max-epsilon must be > 0/],
    [['--delta', '1'], /--delta must be < 1/],
    [['--server', 'ftp://x'], /--server: .*unsupported scheme/],
  ])('rejects bad input %j with one line and exit 2', async (extra, message) => {
    const result = await enroll('t'.repeat(32), stateDir(), extra as string[]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says the aggregator is unreachable in one line', async () => {
    const result = await runCliAsync(AGENT_BIN, [
      'enroll',
      '--server',
      'http://127.0.0.1:1',
      '--token',
      't'.repeat(32),
      '--max-epsilon',
      '1',
      '--state-dir',
      stateDir(),
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/);
  });
});

describe('concord-agent run refuses before connecting', () => {
  let dir: string;
  beforeAll(async () => {
    dir = stateDir();
    expect((await enroll(await aggregator.issueToken(federationId), dir)).status).toBe(0);
  });

  it.each([
    [['--dataset', 'mnist', '--shard', '0/2', '--max-epsilon', '4'], 2, /privacy cap can only be lowered/],
    [['--dataset', 'mnist', '--shard', '2/2'], 2, /--shard must be i\/n/],
    [['--data', 'x.csv', '--label-column', 'y'], 2, /dataset is not a table|no federation spec/],
    [['--dataset', 'mnist', '--data', 'x.csv', '--shard', '0/2'], 2, /either --data/],
    [['--dataset', 'mnist', '--shard', '0/2', '--device', 'tpu'], 2, /--device must be one of cpu, cuda, auto/],
  ])('%j', async (extra, status, message) => {
    const result = await runCliAsync(AGENT_BIN, ['run', '--state-dir', dir, ...(extra as string[])]);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(status);
  });

  it('refuses a state directory that is not enrolled', async () => {
    const result = await runCliAsync(AGENT_BIN, [
      'run',
      '--state-dir',
      stateDir(),
      '--dataset',
      'mnist',
      '--shard',
      '0/2',
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/run 'concord-agent enroll' first/);
  });
});

describe('concord-agent run --data on a table federation', () => {
  let dir: string;
  let csvDir: string;
  beforeAll(async () => {
    const tableFederation = await aggregator.createFederation(
      {
        name: 'agent-csv',
        dataset: { kind: 'table', featureColumns: ['age', 'income'], labelColumn: 'outcome', classes: ['no', 'yes'] },
        model: { inputSize: 2, layers: [{ units: 2, activation: 'none' }], loss: 'softmax-cross-entropy' },
        watermark: { enabled: false }, // two inputs cannot carry the 256-bit owner watermark
        rounds: 1,
        privacy: { mode: 'local', epsilon: 3, delta: 1e-5 },
      },
      2,
    );
    dir = stateDir();
    const enrolled = await enroll(await aggregator.issueToken(tableFederation), dir);
    expect(enrolled.status, enrolled.stderr).toBe(0);
    csvDir = mkdtempSync(join(tmpdir(), 'agent-csv-'));
  });

  it('stores the dataset schema received at enrollment', () => {
    const state = JSON.parse(readFileSync(join(dir, 'site.json'), 'utf8'));
    expect(state.spec.dataset).toEqual({
      kind: 'table',
      featureColumns: ['age', 'income'],
      labelColumn: 'outcome',
      classes: ['no', 'yes'],
    });
  });

  it.each([
    [
      'age,income,outcome\n30,10,yes\n41,abc,no\n',
      'outcome',
      /line 3, column income: expected a finite number, got 'abc'/,
    ],
    [
      'age,income,outcome\n30,10,maybe\n',
      'outcome',
      /line 2, column outcome: 'maybe' is not one of the classes no, yes/,
    ],
    ['age,outcome\n30,yes\n', 'outcome', /missing column income/],
    [
      'age,income,outcome\n30,10,yes\n',
      'label',
      /--label-column label does not match the federation's label column outcome/,
    ],
  ])('refuses %j before connecting, naming the row and column', async (text, labelColumn, message) => {
    const file = join(csvDir, `data-${Math.random().toString(36).slice(2)}.csv`);
    writeFileSync(file, text);
    const result = await runCliAsync(AGENT_BIN, [
      'run',
      '--state-dir',
      dir,
      '--data',
      file,
      '--label-column',
      labelColumn,
    ]);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(2);
  });

  it('refuses --dataset mnist on a table federation', async () => {
    const result = await runCliAsync(AGENT_BIN, ['run', '--state-dir', dir, '--dataset', 'mnist', '--shard', '0/2']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/not mnist: use --data/);
  });
});
