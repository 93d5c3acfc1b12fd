import { describe, expect, it } from 'vitest';
import { stopwatch } from './stopwatch.js';

function spin(iterations: number): number {
  let x = 0;
  for (let i = 0; i < iterations; i++) x += Math.sqrt(i);
  return x;
}

describe('stopwatch', () => {
  it('records every lap in order with wall, CPU and busy time, and integer wall ms as the stored timings', async () => {
    const clock = stopwatch();
    spin(2e6);
    clock.lap('compute');
    await new Promise((r) => setTimeout(r, 20));
    clock.lap('wait');
    expect(Object.keys(clock.profile)).toEqual(['compute', 'wait']);
    expect(Object.keys(clock.timings)).toEqual(['compute', 'wait']);
    for (const [name, p] of Object.entries(clock.profile)) {
      for (const v of [p.wallMs, p.cpuMs, p.busyMs]) expect(v).toBeGreaterThanOrEqual(0);
      expect(clock.timings[name]).toBe(Math.round(p.wallMs));
    }
    // a timer wait is wall time the main thread spends idle: not more busy than elapsed
    expect(clock.profile.wait.wallMs).toBeGreaterThanOrEqual(19);
    expect(clock.profile.wait.busyMs).toBeLessThanOrEqual(clock.profile.wait.wallMs);
    // synchronous work is busy time on the main thread and CPU time of the process
    expect(clock.profile.compute.busyMs).toBeGreaterThan(0);
    expect(clock.profile.compute.cpuMs).toBeGreaterThan(0);
  });

  it('accumulates a stage lapped twice', () => {
    const clock = stopwatch();
    spin(1e6);
    clock.lap('a');
    const first = clock.profile.a.wallMs;
    spin(1e6);
    clock.lap('a');
    expect(Object.keys(clock.profile)).toEqual(['a']);
    expect(clock.profile.a.wallMs).toBeGreaterThan(first);
  });
});
