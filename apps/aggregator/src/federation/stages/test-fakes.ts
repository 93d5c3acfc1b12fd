/** Fakes for the stage specs: an in-memory round context, sockets that record requests, a recording transaction. */
import type { RosterMember } from '@concord/protocol';
import type { Round } from '../../db/schema/rounds.js';
import { FederationSettingsSchema } from '../settings.js';
import type { RoundContext } from './round-context.js';

export const settings = FederationSettingsSchema.parse({
  model: { inputSize: 4, layers: [{ units: 2, activation: 'none' }], loss: 'softmax-cross-entropy' },
  rounds: 3,
  cohort: { minSites: 2, maxSites: 10 },
  privacy: { mode: 'local', sampleRate: 0.1, noiseMultiplier: 1.1, steps: 5, clipNorm: 1, delta: 1e-5 },
  optimization: { learningRate: 0.1, momentum: 0, proximalMu: 0 },
  server: { optimizer: 'fedavg', learningRate: 1, momentum: 0 },
  encoding: { clip: 64, scaleBits: 16 },
  timeouts: { planMs: 200, stageMs: 200, trainingMs: 200 },
});

export function fakeContext(siteIds: readonly string[]): RoundContext {
  const round = { id: 'round-1', number: 1, federationId: 'fed-1', state: 'open' } as Round;
  const roster: RosterMember[] = siteIds.map((siteId, i) => ({
    siteId,
    identityPublicKey: Buffer.alloc(32, i + 1).toString('base64'),
    lastReceipt: null,
  }));
  return { federationId: 'fed-1', settings, round, roster, lap: () => {}, timings: {} };
}

/** Connections whose sockets answer every request with `answer(siteId, event, payload)`, logging each request. */
export function fakeConnections(
  log: string[],
  answer: (siteId: string, event: string, payload: unknown) => unknown,
  connected: (siteId: string) => boolean = () => true,
) {
  return {
    socketOf(siteId: string) {
      if (!connected(siteId)) return undefined;
      return {
        timeout: () => ({
          emitWithAck: async (event: string, payload: unknown) => {
            log.push(`request ${event} ${siteId}`);
            const reply = answer(siteId, event, payload);
            if (reply === 'hang') throw new Error('operation has timed out');
            return reply;
          },
        }),
      } as never;
    },
    broadcast: (siteIds: readonly string[], event: string) => log.push(`broadcast ${event} ${siteIds.join(',')}`),
  };
}

/** A database whose transaction logs begin/commit/rollback and hands the callback a marker transaction. */
export function fakeDb(log: string[]) {
  const tx = { fake: 'tx' } as never;
  return {
    tx,
    transaction: async <T>(fn: (t: never) => Promise<T>): Promise<T> => {
      log.push('begin');
      try {
        const result = await fn(tx);
        log.push('commit');
        return result;
      } catch (error) {
        log.push('rollback');
        throw error;
      }
    },
  };
}
