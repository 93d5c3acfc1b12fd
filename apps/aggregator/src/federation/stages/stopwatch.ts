import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * One stage of a round, as the aggregator saw it:
 * - `wallMs`: elapsed time, which is mostly waiting for sites in the stages that talk to them;
 * - `cpuMs`: the process's CPU time (user + system, every thread: JS, libuv pool, GC, in-process PGlite). It is the
 *   aggregator's own CPU only when nothing else runs in the process (`npm run bench:round-profile` puts the agents in
 *   another process); under `concord simulate` the agents' worker threads are counted too;
 * - `busyMs`: the main thread's event-loop active time (not idle in the poller): the aggregator's JS work even with
 *   agents in worker threads, but it also counts time the thread was runnable and not scheduled on a busy machine.
 */
export interface StageProfile {
  wallMs: number;
  cpuMs: number;
  busyMs: number;
}

export interface Stopwatch {
  /** closes the current stage under `name` (a name lapped twice accumulates) */
  lap(name: string): void;
  /** wall milliseconds per stage, integers: what the rounds table stores as `stageTimings` */
  timings: Record<string, number>;
  /** wall, CPU and busy milliseconds per stage, in lap order */
  profile: Record<string, StageProfile>;
}

/**
 * A round's stopwatch. Each lap costs one getrusage and one event-loop-utilization read (microseconds), so stages
 * can be fine-grained.
 */
export function stopwatch(): Stopwatch {
  const timings: Record<string, number> = {};
  const profile: Record<string, StageProfile> = {};
  let wall = performance.now();
  let cpu = process.cpuUsage();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    timings,
    profile,
    lap(name: string) {
      const nowWall = performance.now();
      const nowCpu = process.cpuUsage();
      const nowElu = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(nowElu, elu).active;
      const stage = (profile[name] ??= { wallMs: 0, cpuMs: 0, busyMs: 0 });
      stage.wallMs += nowWall - wall;
      stage.cpuMs += (nowCpu.user - cpu.user + nowCpu.system - cpu.system) / 1000;
      stage.busyMs += busy;
      timings[name] = Math.round(stage.wallMs);
      wall = nowWall;
      cpu = nowCpu;
      elu = nowElu;
    },
  };
}
