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
    const onError = vi.fn();
    const runner = new FederationRunnerService(
      { runFederation } as unknown as RoundEngine,
      { setStatus } as unknown as FederationRepository,
      onError,
    );
    await expect(runner.start('f1')).rejects.toThrow(/E_TOO_MANY_FAILURES/);
    await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
    expect(setStatus).toHaveBeenCalledWith('f1', 'paused');
    expect(runner.isRunning('f1')).toBe(false);
    await expect(runner.start('f1')).resolves.toMatchObject({ released: 1 });
    expect(runFederation).toHaveBeenCalledTimes(2);
  });

  it('leaves the status alone for other errors, and reports nothing after shutdown', async () => {
    const setStatus = vi.fn().mockResolvedValue(undefined);
    const onError = vi.fn();
    const runner = new FederationRunnerService(
      { runFederation: vi.fn().mockRejectedValue(failure('E_ARCHIVED')) } as unknown as RoundEngine,
      { setStatus } as unknown as FederationRepository,
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
});
