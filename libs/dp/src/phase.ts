/** A phase of a site's privacy history and its validation. */
import { validateDistributedDiscreteGaussian, type DistributedDiscreteGaussian } from './ddg.js';
import { DpRangeError } from './errors.js';
import {
  requireArray,
  requireChoice,
  requireInteger,
  requireObject,
  requirePositive,
  requireSampleRate,
} from './guards.js';

/**
 * `steps` repetitions of one mechanism applied to a Poisson sample of a site's records with rate `sampleRate`
 * (q = 1: every record, i.e. no subsampling).
 * - Without `mechanism`: the Gaussian mechanism with noise standard deviation `noiseMultiplier` times the L2
 *   sensitivity (DP-SGD, local mode).
 * - With a distributed discrete Gaussian `mechanism` (secure-aggregation mode): the mechanism's own parameters are
 *   accounted; `noiseMultiplier` is informational (the nominal central multiplier recorded in receipts) and must
 *   still be > 0.
 */
export interface Phase {
  sampleRate: number;
  noiseMultiplier: number;
  steps: number;
  mechanism?: DistributedDiscreteGaussian;
  /**
   * What the mechanism ran on (absent: 'training'). 'evaluation' phases touch only the site's validation split, a
   * set disjoint from its training records by the site's private per-record coin, so a history's privacy loss is
   * the larger of its training part and its evaluation part, not their sum (accountant.ts#epsilonOfMerged).
   */
  use?: PhaseUse;
}

export type PhaseUse = 'training' | 'evaluation';
export const PHASE_USES: readonly PhaseUse[] = Object.freeze(['training', 'evaluation'] as const);

export type AccountantName = 'rdp' | 'prv';
export const ACCOUNTANTS: readonly AccountantName[] = Object.freeze(['rdp', 'prv'] as const);

/** Largest number of steps in one phase (the range is 1..10^6; 10^9 keeps RDP sums finite and exact). */
export const MAX_STEPS = 1_000_000_000;

export function validatePhase(value: unknown, name: string): Phase {
  const p = requireObject(value, name);
  requireSampleRate(p.sampleRate, `${name}.sampleRate`);
  requirePositive(p.noiseMultiplier, `${name}.noiseMultiplier`);
  requireInteger(p.steps, `${name}.steps`, 0, MAX_STEPS);
  if (p.mechanism !== undefined) validateDistributedDiscreteGaussian(p.mechanism, `${name}.mechanism`);
  if (p.use !== undefined) requireChoice(p.use, `${name}.use`, PHASE_USES);
  return p as unknown as Phase;
}

export function validateHistory(value: unknown, name: string): readonly Phase[] {
  const arr = requireArray(value, name);
  arr.forEach((p, i) => validatePhase(p, `${name}[${i}]`));
  return arr as readonly Phase[];
}

/**
 * Merges phases with the same mechanism parameters (composition is commutative, so this is exact) and drops
 * phases with zero steps. Keeps the order of first appearance.
 */
export function mergePhases(history: readonly Phase[]): Phase[] {
  const byKey = new Map<string, Phase>();
  for (const p of history) {
    if (p.steps === 0) continue;
    const key = JSON.stringify([
      p.sampleRate,
      p.mechanism ? 0 : p.noiseMultiplier,
      p.mechanism ?? null,
      p.use ?? 'training',
    ]);
    const seen = byKey.get(key);
    if (seen) seen.steps += p.steps;
    else byKey.set(key, { ...p });
  }
  const merged = [...byKey.values()];
  for (const p of merged) {
    if (p.steps > Number.MAX_SAFE_INTEGER) throw new DpRangeError('total steps exceed 2^53');
  }
  return merged;
}
