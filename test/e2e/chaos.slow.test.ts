/**
 * A short `npm run chaos` (issue 16): at most 8 faults started within 3 minutes against real processes on a throwaway
 * database of the PostgreSQL server in DATABASE_URL (skipped without one): every fault recovered, every audit
 * clean, no charge lost or doubled. An agent killed during training can hold its round until the engine's training
 * timeout (300 s), so a fault may take that long to recover: usually 4-5 minutes in all, at worst about 9.
 * The long run is recorded in docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const serverUrl = process.env.DATABASE_URL;

it.skipIf(!serverUrl)('survives 8 random faults: audits clean, nothing lost or doubled', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-chaos-test-'));
  try {
    const out = join(dir, 'chaos.json');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/chaos/run.ts',
        '--faults',
        '8',
        '--minutes',
        '3',
        '--sites',
        '3',
        '--recover-s',
        '320',
        '--seed',
        '7',
        '--database-url',
        serverUrl!,
        '--json',
        out,
      ],
      { encoding: 'utf8', timeout: 590_000 },
    );
    expect(run.status, `${run.stdout}\n${run.stderr.slice(-4000)}`).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      faults: number;
      records: { recovered: boolean; auditClean: boolean }[];
      charges: { lost: number; doubled: number; releasedRounds: number };
    };
    expect(report.faults).toBeGreaterThan(0);
    expect(report.records.every((r) => r.recovered && r.auditClean)).toBe(true);
    expect(report.charges).toMatchObject({ lost: 0, doubled: 0 });
    expect(report.charges.releasedRounds).toBeGreaterThan(report.faults);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
