import { describe, expect, it } from 'vitest';
import { parameterCount } from '@concord/native/spec';
import { updateVectorLength } from '@concord/protocol';
import { restoreOptimizerState } from '../server-optimizer.js';
import { releaseModel } from './release.js';
import { fakeConnections, fakeContext, fakeDb, settings } from './test-fakes.js';

describe('releaseModel', () => {
  it('stores the model, the participants, the released state and the metrics in one transaction, then tells the cohort', async () => {
    const log: string[] = [];
    const db = fakeDb(log);
    const inTx =
      (name: string) =>
      (...args: unknown[]) => {
        expect(args.at(-1), name).toBe(db.tx);
        log.push(name);
      };
    const rounds = {
      setState: async (_id: string, state: string, _patch?: unknown, executor?: unknown) => {
        if (state === 'released') expect(executor).toBe(db.tx);
        log.push(`state ${state}`);
      },
      setParticipant: async (...args: unknown[]) => inTx('participants completed')(...args),
    };
    const stored: { model?: { metrics: unknown }; series?: unknown } = {};
    const models = {
      insertModel: async (...args: unknown[]) => {
        stored.model = args[0] as { metrics: unknown };
        inTx('insert model')(...args);
      },
    };
    const metrics = {
      recordMetrics: async (...args: unknown[]) => {
        stored.series = args[2];
        inTx('metrics')(...args);
      },
    };
    const ctx = fakeContext(['a', 'b', 'c']);
    const p = parameterCount(settings.model);
    const weights = new Float32Array(p).fill(0.5);
    const plan = { privacy: settings.privacy, encoding: settings.encoding, model: { parameterCount: p } } as never;
    const released = await releaseModel(
      {
        db,
        rounds: rounds as never,
        models: models as never,
        metrics: metrics as never,
        keys: { watermarkKey: () => ({}) as never },
        connections: fakeConnections(log, () => null),
      },
      ctx,
      {
        plan,
        sum: new Uint32Array(updateVectorLength(settings.privacy, p)), // every site sent a zero update
        survivors: ['a', 'b'],
        weights,
        version: 4,
        optimizer: restoreOptimizerState(settings.server, undefined, p),
        evaluate: async () => ({ accuracy: 0.9, loss: 0.3 }),
      },
    );
    expect(released).toMatchObject({ modelVersion: 5, updateNorm: 0, accuracy: 0.9, loss: 0.3 });
    // the server's held-out evaluation is stored as heldOut*, never under the private evaluation's noisy keys
    expect(stored.model?.metrics).toEqual({ heldOutAccuracy: 0.9, heldOutLoss: 0.3 });
    expect(stored.series).toEqual({ survivors: 2, cohort: 3, heldOutAccuracy: 0.9, heldOutLoss: 0.3 });
    expect([...released.weights]).toEqual([...weights]); // a zero update leaves FedAvg's weights unchanged
    expect(log).toEqual([
      'state aggregated',
      'begin',
      'insert model',
      'participants completed',
      'state released',
      'metrics',
      'commit',
      'broadcast round:result a,b,c',
    ]);
  });
});
