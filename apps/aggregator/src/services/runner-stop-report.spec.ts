import { describe, expect, it, vi } from 'vitest';
import type { RoundEngine } from '../federation/round-engine.js';
import type { FederationRepository } from '../repositories/federation.repository.js';
import { FederationRunnerService } from './federation-runner.service.js';
import { FederationsService } from './federations.service.js';

describe('a stopped round loop is reported once, never swallowed', () => {
  it('a loop started by an operator action (startRounds) that fails is logged with its reason, with no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const onError = vi.fn();
      const runner = new FederationRunnerService(
        {
          runFederation: vi
            .fn()
            .mockRejectedValue(Object.assign(new Error('E_ARCHIVED: gone'), { code: 'E_ARCHIVED' })),
        } as unknown as RoundEngine,
        {
          setStatus: vi.fn(),
          setStatusReason: vi.fn().mockResolvedValue(undefined),
        } as unknown as FederationRepository,
        onError,
      );
      const federation = { id: '11111111-1111-4111-8111-111111111111', name: 'f', status: 'paused', spec: {} };
      const federations = new FederationsService(
        {
          get: vi.fn(async () => federation as never),
          setStatus: vi.fn(async (_id: string, status: string) => void (federation.status = status)),
          create: vi.fn(),
          listFederations: vi.fn(),
        },
        { record: vi.fn(async () => {}) },
        runner,
      );
      await federations.change(federation.id, 'resume', { keyId: 'k', role: 'operator' });
      await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
      expect(onError).toHaveBeenCalledWith(federation.id, expect.objectContaining({ code: 'E_ARCHIVED' }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(onError).toHaveBeenCalledTimes(1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
