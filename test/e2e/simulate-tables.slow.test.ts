/**
 * `concord simulate` on the vendored tables: the real compiled CLI, a real aggregator and agents in worker threads,
 * SecAgg+ and the PGlite ledger. Both datasets run (a few rounds: this checks the path and the metrics, the
 * utility figures are bench:tabular's), the JSON carries ROC AUC / PR AUC / log-loss, and bad combinations of
 * flags are refused with a clear message.
 */
import { describe, expect, it } from 'vitest';
import { CONCORD_BIN, runCliAsync } from '../support/cli.js';

const simulate = (args: string[]) => runCliAsync(CONCORD_BIN, ['simulate', ...args], { timeoutMs: 400_000 });

describe('concord simulate --dataset adult | mammography', () => {
  it.each([
    ['mammography', ['--sites', '3', '--dp', 'local', '--epsilon', '3', '--rounds', '3'], 3355, 78],
    ['adult', ['--sites', '3', '--partition', 'by-column:race', '--dp', 'none', '--rounds', '3'], 16_281, 3846],
  ])(
    '%s: binary metrics of the released model on the reference set',
    async (dataset, flags, count, positives) => {
      const result = await simulate(['--dataset', dataset, ...flags, '--json']);
      expect(result.status, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as Record<string, unknown> & {
        binary: { rocAuc: number; prAuc: number; logLoss: number; count: number; positives: number };
      };
      expect(summary).toMatchObject({ dataset, rounds: 3, failedRounds: 0, ledger: { verified: true } });
      expect(summary.binary).toMatchObject({ count, positives });
      // logistic regression starts from zero with the prior's bias: its first steps already rank far better than chance
      expect(summary.binary.rocAuc).toBeGreaterThan(0.7);
      expect(summary.binary.rocAuc).toBeLessThanOrEqual(1);
      expect(summary.binary.prAuc).toBeGreaterThan(positives / count);
      expect(summary.binary.logLoss).toBeGreaterThan(0);
    },
    400_000,
  );

  it.each([
    [['--dataset', 'iris'], /--dataset must be one of mnist, adult, mammography/],
    [['--partition', 'by-column:race'], /by-column:NAME needs a table/],
    [['--dataset', 'adult', '--partition', 'by-column:age'], /by-column:age: not a categorical column of adult/],
    [['--dataset', 'mammography', '--spec', 'examples/mnist.yaml'], /its mnist dataset does not match/],
    [['--dataset', 'adult', '--sites', '6', '--partition', 'by-column:sex'], /2 distinct values, fewer than the 6/],
  ])(
    'refuses %j',
    async (args, message) => {
      const result = await simulate([...args, '--rounds', '1']);
      expect(result.stderr).toMatch(message);
      expect(result.status).not.toBe(0);
    },
    120_000,
  );
});
