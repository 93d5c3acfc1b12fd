import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../../../test/support/command-runner.js';
import { buildProgram } from '../cli/program.js';
import { register } from './privacy.command.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-privacy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => runCommand(register, args);

afterEach(() => {
  process.exitCode = undefined;
});

describe('concord privacy epsilon', () => {
  const base = ['privacy', 'epsilon', '--sample-rate', '0.01', '--noise-multiplier', '1.0', '--steps', '1000'];

  it('prints Opacus-equal RDP epsilon and the optimal order as one JSON object', async () => {
    const r = await run(...base, '--delta', '1e-6', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.accountant).toBe('rdp');
    expect(Math.abs(doc.epsilon - 2.436693803022139) / 2.436693803022139).toBeLessThan(1e-6);
    expect(doc.optimalOrder).toBe(8);
    expect(r.err).toBe('');
  });

  it('prints a readable line without --json', async () => {
    const r = await run(...base, '--delta', '1e-6');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^epsilon 2\.4366\d+ at delta 0\.000001 \(rdp, optimal order 8\)\n$/);
  });

  it('--accountant prv reports the upper bound and its error', async () => {
    const r = await run(...base, '--delta', '1e-6', '--accountant', 'prv', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.accountant).toBe('prv');
    expect(doc.epsilonError).toBe(0.01);
    expect(Math.abs(doc.epsilon - 2.1346440609594017)).toBeLessThan(1e-4);
    expect(doc.epsilonLower).toBeLessThan(2.1245225256749363);
  });

  it('composes a history file the same way', async () => {
    const file = join(dir, 'history.json');
    writeFileSync(
      file,
      JSON.stringify([
        { sampleRate: 0.01, noiseMultiplier: 1.0, steps: 400 },
        { sampleRate: 0.01, noiseMultiplier: 1.0, steps: 600 },
      ]),
    );
    const r = await run('privacy', 'epsilon', '--history', file, '--delta', '1e-6', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).epsilon).toBeCloseTo(2.436693803022139, 9);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['q > 1', ['--sample-rate', '1.5', '--noise-multiplier', '1', '--steps', '10', '--delta', '1e-5'], /--sample-rate/],
    ['q = 0', ['--sample-rate', '0', '--noise-multiplier', '1', '--steps', '10', '--delta', '1e-5'], /--sample-rate/],
    [
      'sigma <= 0',
      ['--sample-rate', '0.1', '--noise-multiplier', '0', '--steps', '10', '--delta', '1e-5'],
      /--noise-multiplier/,
    ],
    [
      'non-integer steps',
      ['--sample-rate', '0.1', '--noise-multiplier', '1', '--steps', '2.5', '--delta', '1e-5'],
      /--steps/,
    ],
    ['delta = 1', ['--sample-rate', '0.1', '--noise-multiplier', '1', '--steps', '10', '--delta', '1'], /--delta/],
    ['delta missing', ['--sample-rate', '0.1', '--noise-multiplier', '1', '--steps', '10'], /--delta/],
    [
      'unknown accountant',
      ['--sample-rate', '0.1', '--noise-multiplier', '1', '--steps', '10', '--delta', '1e-5', '--accountant', 'gdp'],
      /--accountant/,
    ],
    ['unreadable history', ['--history', '/nonexistent/h.json', '--delta', '1e-5'], /--history/],
  ];
  for (const [name, args, pattern] of bad) {
    it(`rejects ${name} with one line naming the flag, exit 2`, async () => {
      const r = await run('privacy', 'epsilon', ...args, '--json');
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(pattern);
    });
  }

  it('rejects a history file with a bad phase, naming the element', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ sampleRate: 2, noiseMultiplier: 1, steps: 1 }]));
    const r = await run('privacy', 'epsilon', '--history', file, '--delta', '1e-5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--history: history\[0\]\.sampleRate/);
  });

  it('rejects a history file that is not JSON', async () => {
    const file = join(dir, 'garbage.json');
    writeFileSync(file, '[{');
    const r = await run('privacy', 'epsilon', '--history', file, '--delta', '1e-5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--history: .* not valid JSON/);
  });
});

describe('concord privacy calibrate', () => {
  it("finds Opacus's noise multiplier (eps 8, delta 1e-5, q 0.04, 2000 steps -> 1.3562)", async () => {
    const r = await run(
      ...['privacy', 'calibrate', '--target-epsilon', '8', '--sample-rate', '0.04', '--steps', '2000'],
      ...['--delta', '1e-5', '--json'],
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.noiseMultiplier).toBeCloseTo(1.3562, 4);
    expect(doc.epsilon).toBeLessThanOrEqual(8);
    expect(8 - doc.epsilon).toBeLessThanOrEqual(0.01);
  });

  it('rejects a bad target with exit 2', async () => {
    const r = await run(
      'privacy',
      'calibrate',
      '--target-epsilon',
      '-1',
      '--sample-rate',
      '0.04',
      '--steps',
      '10',
      '--delta',
      '1e-5',
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--target-epsilon/);
  });
});

describe('registration', () => {
  it('buildProgram() has `privacy` with `epsilon`, `calibrate` and `audit`', () => {
    const privacy = buildProgram().commands.find((c) => c.name() === 'privacy');
    expect(privacy?.commands.map((c) => c.name()).sort()).toEqual(['audit', 'calibrate', 'epsilon']);
  });
});
