/**
 * The per-stage breakdown of rounds (issue 20): each round's stopwatch profile (federation/stages/stopwatch.ts),
 * rounded for printing, and a summary with the median of every stage over the released rounds. Printed by
 * `concord simulate` and `npm run bench:round-profile`.
 */
import type { RoundReport } from '../federation/round-engine.js';
import type { StageProfile } from '../federation/stages/stopwatch.js';

export interface RoundProfile {
  round: number;
  state: RoundReport['state'];
  cohort: number;
  survivors: number;
  /** the round's sums over its stages */
  total: StageProfile;
  stages: Record<string, StageProfile>;
}

export interface ProfileSummary {
  /**
   * released training rounds the medians are over (failed rounds stop early and evaluation rounds have other stages:
   * either would skew the medians)
   */
  rounds: number;
  /** median per stage, in stage order */
  stages: Record<string, StageProfile>;
  /** median of the rounds' totals (not the sum of the stage medians) */
  total: StageProfile;
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;
const rounded = (p: StageProfile): StageProfile => ({
  wallMs: round1(p.wallMs),
  cpuMs: round1(p.cpuMs),
  busyMs: round1(p.busyMs),
});

export function totalOf(stages: Record<string, StageProfile>, exclude: readonly string[] = []): StageProfile {
  const total = { wallMs: 0, cpuMs: 0, busyMs: 0 };
  for (const [name, p] of Object.entries(stages)) {
    if (exclude.includes(name)) continue;
    total.wallMs += p.wallMs;
    total.cpuMs += p.cpuMs;
    total.busyMs += p.busyMs;
  }
  return total;
}

export function roundProfile(report: RoundReport): RoundProfile {
  const stages = Object.fromEntries(Object.entries(report.profile).map(([name, p]) => [name, rounded(p)]));
  return {
    round: report.roundNumber,
    state: report.state,
    cohort: report.cohort,
    survivors: report.survivors,
    total: rounded(totalOf(report.profile)),
    stages,
  };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianProfile(profiles: StageProfile[]): StageProfile {
  return rounded({
    wallMs: median(profiles.map((p) => p.wallMs)),
    cpuMs: median(profiles.map((p) => p.cpuMs)),
    busyMs: median(profiles.map((p) => p.busyMs)),
  });
}

/**
 * Medians over the released rounds. `exclude` leaves stages out of the totals (the bench leaves out `evaluate`,
 * simulate's own held-out evaluation, which `concord serve` does not do); they still get their own median.
 */
export function summarizeProfiles(reports: readonly RoundReport[], exclude: readonly string[] = []): ProfileSummary {
  const released = reports.filter((r) => r.state === 'released' && r.kind !== 'evaluation');
  const names: string[] = [];
  for (const r of released) for (const name of Object.keys(r.profile)) if (!names.includes(name)) names.push(name);
  const zero = { wallMs: 0, cpuMs: 0, busyMs: 0 };
  const stages = Object.fromEntries(
    names.map((name) => [name, medianProfile(released.map((r) => r.profile[name] ?? zero))]),
  );
  return {
    rounds: released.length,
    stages,
    total: medianProfile(released.map((r) => totalOf(r.profile, exclude))),
  };
}

/** The summary as a Markdown table: stage, then wall / CPU / busy medians in milliseconds. */
export function profileTable(summary: ProfileSummary, totalLabel = 'round'): string[] {
  const ms = (x: number) => x.toFixed(1);
  const row = (name: string, p: StageProfile) => `| ${name} | ${ms(p.wallMs)} | ${ms(p.cpuMs)} | ${ms(p.busyMs)} |`;
  return [
    `| stage (median of ${summary.rounds} released training rounds) | wall ms | CPU ms | main-thread busy ms |`,
    '|---|---:|---:|---:|',
    ...Object.entries(summary.stages).map(([name, p]) => row(name, p)),
    row(`**${totalLabel}**`, summary.total),
  ];
}
