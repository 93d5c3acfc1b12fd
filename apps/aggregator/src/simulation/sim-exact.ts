/**
 * Simulate's check on private evaluation: the EXACT metrics of a model on the union of every site's validation
 * split, which only a simulation can compute (it made the sites' identity seeds, so it can redraw each site's
 * private coin: client-agent data/validation-split.ts). The noisy metrics the federation released should be within
 * a few stated standard deviations of these.
 */
import { countVector, splitValidation } from '@concord/client-agent';
import type { Dataset } from '@concord/datasets';
import type { ModelSpec } from '@concord/native';
import { evaluationShapeOf, metricsOfEvaluation, type EvaluationMetrics } from '@concord/protocol';
import type { FederationSettings } from '../federation/settings.js';
import { siteShard } from './sim-settings.js';

export interface ExactEvaluator {
  /** exact metrics of `weights` on the union of the validation splits (records counted exactly) */
  evaluate(weights: Float32Array): Promise<EvaluationMetrics>;
  /** validation records in the union */
  records: number;
}

export function exactEvaluator(o: {
  settings: FederationSettings;
  train: Dataset;
  parts: readonly (readonly number[])[];
  identitySeeds: readonly Uint8Array[];
}): ExactEvaluator | undefined {
  const e = o.settings.evaluation;
  if (!e) return undefined;
  const validations = o.parts.map((rows, i) => {
    const shard = siteShard(o.settings, o.train, rows);
    const data = {
      features: shard.features,
      labels: shard.labels,
      count: shard.count,
      featureCount: shard.featureCount,
    };
    const identity = { identitySeed: o.identitySeeds[i] };
    return splitValidation(data, identity, e.validation).validation!;
  });
  const shape = { ...evaluationShapeOf(o.settings.model), lossClip: e.lossClip, scaleBits: e.scaleBits };
  return {
    records: validations.reduce((a, v) => a + v.count, 0),
    async evaluate(weights) {
      let total: Float64Array | undefined;
      for (const v of validations) {
        const part = await countVector(o.settings.model as ModelSpec, shape, weights, v);
        if (!total) total = part;
        else for (let j = 0; j < part.length; j++) total[j] += part[j];
      }
      return metricsOfEvaluation(total!, shape, 0);
    },
  };
}
