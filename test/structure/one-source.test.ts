/**
 * Issue 14, "one schema per idea": each pair that used to be written twice now has one source. These tests fail if
 * a copy comes back (a list restated, a shape redefined, a function reimplemented).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVER_OPTIMIZERS, defaultSecAggShape, parameterCountOf } from '@concord/fedopt';
import { parameterCount } from '@concord/native/spec';
import {
  FederationModelSchema,
  LocalPrivacyPlanSchema,
  ModelSpecWireSchema,
  NonePrivacyPlanSchema,
  PrivacyPlanSchema,
  SERVER_OPTIMIZER_NAMES,
} from '@concord/protocol';
import { FederationSettingsSchema, secAggShape } from '../../apps/aggregator/src/federation/settings.js';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const source = (p: string) => readFileSync(root(p), 'utf8');

describe('one source per idea', () => {
  it('one server optimizer list: fedopt, the federation spec and the stored settings use the same array', () => {
    expect(SERVER_OPTIMIZERS).toBe(SERVER_OPTIMIZER_NAMES);
    const settingsEnum = FederationSettingsSchema.shape.server.shape.optimizer;
    expect(settingsEnum.options).toEqual([...SERVER_OPTIMIZER_NAMES]);
  });

  it("the stored privacy settings are the wire schema's shapes (local, none), not a restatement", () => {
    const options = FederationSettingsSchema.shape.privacy.options;
    expect(options[0]).toBe(LocalPrivacyPlanSchema);
    expect(options[2]).toBe(NonePrivacyPlanSchema);
    expect(PrivacyPlanSchema.options[0]).toBe(LocalPrivacyPlanSchema);
  });

  it('stricter wins: local `steps` above 1,000,000 is refused when settings are stored, as sites refuse it in a plan', () => {
    const local = { mode: 'local', sampleRate: 0.01, noiseMultiplier: 1, clipNorm: 1, delta: 1e-5 };
    expect(LocalPrivacyPlanSchema.safeParse({ ...local, steps: 1_000_000 }).success).toBe(true);
    // before: settings.ts bounded steps by min(1) only, so a federation could be stored that no site would accept
    expect(LocalPrivacyPlanSchema.safeParse({ ...local, steps: 1_000_001 }).success).toBe(false);
    expect(PrivacyPlanSchema.safeParse({ ...local, steps: 1_000_001 }).success).toBe(false);
  });

  it("one model schema: the plan's is the federation spec's (stricter: a layer with an unknown key is refused)", () => {
    expect(ModelSpecWireSchema).toBe(FederationModelSchema);
    const model = { inputSize: 4, layers: [{ units: 2, activation: 'none' }], loss: 'mse' };
    expect(ModelSpecWireSchema.safeParse(model).success).toBe(true);
    // before: the plan's layer objects were not strict, so `dropout` was silently stripped
    const extra = { ...model, layers: [{ units: 2, activation: 'none', dropout: 0.5 }] };
    expect(ModelSpecWireSchema.safeParse(extra).success).toBe(false);
  });

  it("the aggregator's default SecAgg+ shape is fedopt's defaultSecAggShape", () => {
    for (let n = 2; n <= 64; n++) {
      for (const c of [1, 2]) {
        let expected: unknown;
        try {
          expected = defaultSecAggShape(n, c);
        } catch (error) {
          expected = (error as { code?: string }).code ?? 'error';
        }
        let actual: unknown;
        try {
          actual = secAggShape(n, undefined, undefined, c);
        } catch (error) {
          actual = (error as { code?: string }).code ?? 'error';
        }
        expect(actual).toEqual(expected);
      }
    }
  });

  it("fedopt counts parameters with native's parameterCount (@concord/native/spec)", () => {
    const model = {
      inputSize: 7,
      layers: [
        { units: 5, activation: 'relu' as const },
        { units: 3, activation: 'none' as const },
      ],
      loss: 'softmax-cross-entropy' as const,
    };
    expect(parameterCountOf(model)).toBe(parameterCount(model));
    expect(source('libs/fedopt/src/model.ts')).toMatch(/from '@concord\/native\/spec'/);
  });

  it('the aggregator and the agent build the SecAgg+ config from a plan with the same libs/protocol function', () => {
    for (const file of [
      'apps/aggregator/src/federation/stages/secagg.ts',
      'apps/client-agent/src/runtime/round-session.ts',
    ]) {
      const text = source(file);
      expect(text, file).toMatch(/secAggConfigOf\(plan\)/);
      expect(text, file).not.toMatch(/graphSeed: new Uint8Array/);
    }
  });
});
