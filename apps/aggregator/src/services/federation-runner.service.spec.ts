import { describe, expect, it, vi } from 'vitest';
import type { RoundEngine } from '../federation/round-engine.js';
import type { FederationRepository } from '../repositories/federation.repository.js';
import { FederationRunnerService } from './federation-runner.service.js';

const failure = (code: string) => Object.assign(new Error(`${code}: boom`), { code });

describe('FederationRunnerService', () => {
  it('holds a federation whose rounds keep failing as paused, and can start it again', async () => {
    const runFederation = vi
      .fn()
      .mockRejectedValueOnce(failure('E_TOO_MANY_FAILURES'))
      .mockResolvedValueOnce({ released: 1, failed: 0 });
    const setStatus = vi.fn().mockResolvedValue(undefined);
    const setStatusReason = vi.fn().mockResolvedValue(undefined);
    const onError = vi.fn();
    const runner = new FederationRunnerService(
      { runFederation } as unknown as RoundEngine,
      { setStatus, setStatusReason } as unknown as FederationRepository,
      onError,
    );
    await expect(runner.start('f1')).rejects.toThrow(/E_TOO_MANY_FAILURES/);
    await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
    expect(setStatus).toHaveBeenCalledWith('f1', 'paused');
    expect(setStatusReason).toHaveBeenCalledWith('f1', expect.objectContaining({ code: 'E_TOO_MANY_FAILURES' }));
    expect(runner.stateOf('f1')).toMatchObject({ state: 'stopped' });
    expect(runner.isRunning('f1')).toBe(false);
    await expect(runner.start('f1')).resolves.toMatchObject({ released: 1 });
    expect(runFederation).toHaveBeenCalledTimes(2);
  });

  it('leaves the status alone for other errors, and reports nothing after shutdown', async () => {
    const setStatus = vi.fn().mockResolvedValue(undefined);
    const setStatusReason = vi.fn().mockResolvedValue(undefined);
    const onError = vi.fn();
    const runner = new FederationRunnerService(
      { runFederation: vi.fn().mockRejectedValue(failure('E_ARCHIVED')) } as unknown as RoundEngine,
      { setStatus, setStatusReason } as unknown as FederationRepository,
      onError,
    );
    await expect(runner.start('f2')).rejects.toThrow();
    await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
    expect(setStatus).not.toHaveBeenCalled();
    runner.shutdown();
    await expect(runner.start('f3')).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 10));
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('retries with backoff while the database is unreachable, then runs again by itself', async () => {
    const lost = Object.assign(new Error('Failed query: select 1'), { cause: { code: 'ECONNREFUSED' } });
    const runFederation = vi.fn().mockRejectedValueOnce(lost).mockResolvedValueOnce({ released: 3, failed: 0 });
    let up = false;
    const ping = vi.fn(async () => up);
    const setStatusReason = vi.fn().mockResolvedValue(undefined);
    const onError = vi.fn();
    const runner = new FederationRunnerService(
      { runFederation } as unknown as RoundEngine,
      { setStatus: vi.fn(), setStatusReason } as unknown as FederationRepository,
      onError,
      { ping, initialBackoffMs: 5, maxBackoffMs: 20 },
    );
    const run = runner.start('f4');
    await vi.waitFor(() => expect(runner.stateOf('f4')).toMatchObject({ state: 'waiting-for-database' }));
    expect(runner.heldUp()).toEqual([
      { federationId: 'f4', reason: expect.objectContaining({ code: 'E_DB_UNAVAILABLE' }) },
    ]);
    await vi.waitFor(() => expect(ping.mock.calls.length).toBeGreaterThan(3));
    expect(runner.isRunning('f4')).toBe(true);
    up = true;
    await expect(run).resolves.toMatchObject({ released: 3 });
    expect(runFederation).toHaveBeenCalledTimes(2);
    expect(setStatusReason).toHaveBeenCalledWith('f4', null);
    expect(onError).not.toHaveBeenCalled();
  });

  it('a non-database error with the database up stops the loop with a coded reason (no SQL in it)', async () => {
    const setStatusReason = vi.fn().mockResolvedValue(undefined);
    const runner = new FederationRunnerService(
      { runFederation: vi.fn().mockRejectedValue(new Error('Failed query: select secret')) } as unknown as RoundEngine,
      { setStatus: vi.fn(), setStatusReason } as unknown as FederationRepository,
      () => {},
      { ping: async () => true },
    );
    await expect(runner.start('f5')).rejects.toThrow();
    await vi.waitFor(() => expect(setStatusReason).toHaveBeenCalled());
    const reason = setStatusReason.mock.calls[0][1] as { code: string; message: string };
    expect(reason.code).toBe('E_RUNNER_STOPPED');
    expect(reason.message).not.toMatch(/select/);
  });
});
