import { describe, expect, it } from 'vitest';
import type { RoundReport } from '../federation/round-engine.js';
import { profileTable, roundProfile, summarizeProfiles } from './round-profile.js';

const p = (wallMs: number, cpuMs: number, busyMs: number) => ({ wallMs, cpuMs, busyMs });

function report(
  n: number,
  state: RoundReport['state'],
  profile: RoundReport['profile'],
  kind: RoundReport['kind'] = 'training',
): RoundReport {
  return { roundId: `r${n}`, roundNumber: n, kind, state, cohort: 3, survivors: 3, drops: [], timings: {}, profile };
}

const reports = [
  report(1, 'released', { plan: p(10, 1, 2), charge: p(4, 3, 3), evaluate: p(50, 50, 50) }),
  report(2, 'failed', { plan: p(1000, 1000, 1000) }),
  report(5, 'released', { plan: p(900, 900, 900), evaluate: p(900, 900, 900) }, 'evaluation'),
  report(3, 'released', { plan: p(30, 3, 4), charge: p(6, 5, 5), evaluate: p(70, 70, 70) }),
  report(4, 'released', { plan: p(20, 2, 3), charge: p(2.04, 1, 1), evaluate: p(60, 60, 60), broadcast: p(1, 1, 1) }),
];

describe('round profile', () => {
  it('summarizes released training rounds only: the median of each stage, in stage order, and of the round totals', () => {
    const s = summarizeProfiles(reports);
    expect(s.rounds).toBe(3);
    expect(Object.keys(s.stages)).toEqual(['plan', 'charge', 'evaluate', 'broadcast']);
    expect(s.stages.plan).toEqual(p(20, 2, 3));
    expect(s.stages.charge).toEqual(p(4, 3, 3));
    // a stage missing from a round counts as 0 there
    expect(s.stages.broadcast).toEqual(p(0, 0, 0));
    // totals 64 / 106 / 83.04 wall: the median round, not the sum of the stage medians
    expect(s.total.wallMs).toBe(83);
  });

  it('leaves excluded stages out of the totals but keeps their own medians', () => {
    const s = summarizeProfiles(reports, ['evaluate']);
    expect(s.total).toEqual(p(23.0, 4, 5));
    expect(s.stages.evaluate).toEqual(p(60, 60, 60));
  });

  it('has an empty summary with no released training round', () => {
    const s = summarizeProfiles([reports[1], reports[2]]);
    expect(s).toEqual({ rounds: 0, stages: {}, total: p(0, 0, 0) });
  });

  it('rounds one round to 0.1 ms and totals its stages', () => {
    const r = roundProfile(reports[4]);
    expect(r).toMatchObject({ round: 4, state: 'released', cohort: 3, survivors: 3 });
    expect(r.stages.charge).toEqual(p(2, 1, 1));
    expect(r.total).toEqual(p(83, 64, 65));
  });

  it('prints one table row per stage plus the total', () => {
    const lines = profileTable(summarizeProfiles(reports));
    expect(lines).toHaveLength(2 + 4 + 1);
    expect(lines[2]).toBe('| plan | 20.0 | 2.0 | 3.0 |');
    expect(lines.at(-1)).toMatch(/^\| \*\*round\*\* \| 83\.0 \|/);
  });
});
