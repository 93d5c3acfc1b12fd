import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../../test/support/command-runner.js';
import { register } from './privacy.command.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => runCommand(register, ['privacy', 'audit', ...args]);
// Tiny but real: the native kernel with canaries, 40 canaries, 3 rounds.
const small = ['--canaries', '40', '--rounds', '3', '--steps', '2', '--records', '100', '--seed', 'spec'];

describe('concord privacy audit', () => {
  it('prints one JSON object with the charge, the three analyses and the seed', async () => {
    const r = await run(...small, '--epsilon', '2', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.mode).toBe('local');
    expect(doc.canaries).toBe(40);
    expect(doc.charged.epsilon).toBeLessThanOrEqual(2);
    expect(doc.charged.epsilon).toBeGreaterThan(1.9);
    expect(doc.analysis.oneRun.rigorous).toBe(true);
    expect(doc.analysis.gaussianPair.rigorous).toBe(false);
    expect(doc.analysis.sweep.length).toBeGreaterThan(0);
    expect(doc.scores).toBeUndefined();
    expect(doc.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(r.err).toBe('');
  });

  it('is reproducible with --seed and different without', async () => {
    const a = JSON.parse((await run(...small, '--json')).out);
    const b = JSON.parse((await run(...small, '--json')).out);
    expect(b.analysis).toEqual(a.analysis);
    const c = JSON.parse((await run(...small.slice(0, -2), '--json')).out);
    expect(c.seed).not.toBe(a.seed);
  });

  it('--out writes the JSON with every score and coin and a self-contained HTML/SVG report', async () => {
    const out = join(dir, 'report');
    const args = ['--canaries', '40', '--rounds', '3', '--records', '100', '--seed', 'spec'];
    const r = await run(...args, '--mode', 'distributed', '--sites', '2', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/lower bound \(one-run\)/);
    expect(readdirSync(out).sort()).toEqual(['privacy-audit.html', 'privacy-audit.json']);
    const doc = JSON.parse(readFileSync(join(out, 'privacy-audit.json'), 'utf8'));
    expect(doc.scores).toHaveLength(40);
    expect(doc.included).toHaveLength(40);
    const html = readFileSync(join(out, 'privacy-audit.html'), 'utf8');
    expect(html).toMatch(/<svg[^>]*aria-label="canary score histograms"/);
    expect(html).not.toMatch(/<script|\b(src|href)=/);
  });

  it('black-box mode runs on the plain training path', async () => {
    const r = await run(...small, '--mode', 'black-box', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).parameters).toBe(18);
  });

  it('bad flags exit 2 with one line naming the flag, before any work', async () => {
    for (const [args, message] of [
      [['--mode', 'white'], /--mode must be one of local, distributed, black-box/],
      [['--canaries', '2'], /--canaries/],
      [['--epsilon', '-1'], /--epsilon/],
      [['--delta', '1'], /--delta/],
      [['--confidence', 'x'], /--confidence must be a number/],
      [['--mode', 'distributed', '--steps', '2'], /distributed mode runs one step per round/],
    ] as [string[], RegExp][]) {
      const r = await run(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    }
  });

  it('an unwritable --out exits 2 with one line', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await run(...small, '--out', join(file, 'sub'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out: cannot write the report/);
  });
});
