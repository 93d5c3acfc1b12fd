import { bytesToFloat32 } from '@concord/protocol';
import type { RoundReport } from '../federation/round-engine.js';
import type { ModelVersion } from '../db/schema/model-versions.js';
import type { ExactEvaluator } from './sim-exact.js';
import type { SimEvaluation } from './sim-options.js';

/** Each released evaluation round's noisy metrics beside the exact ones on the union of the validation splits. */
export async function compareEvaluations(
  reports: readonly RoundReport[],
  exact: ExactEvaluator | undefined,
  modelOf: (version: number) => Promise<ModelVersion | undefined>,
  parameterCount: number,
): Promise<SimEvaluation[]> {
  const out: SimEvaluation[] = [];
  if (!exact) return out;
  for (const r of reports) {
    const noisy = r.evaluation;
    if (r.kind !== 'evaluation' || r.state !== 'released' || !noisy || r.modelVersion === undefined) continue;
    const stored = await modelOf(r.modelVersion);
    if (!stored?.weights) continue;
    const truth = await exact.evaluate(bytesToFloat32(stored.weights, parameterCount, 'model'));
    const apart = (a: number | undefined, b: number | undefined, std: number | undefined) =>
      a === undefined || b === undefined || !std ? undefined : Math.abs(a - b) / std;
    out.push({
      modelVersion: r.modelVersion,
      noisy: { accuracy: noisy.accuracy, loss: noisy.loss, rocAuc: noisy.rocAuc, records: noisy.records },
      std: noisy.std,
      exact: { accuracy: truth.accuracy, loss: truth.loss, rocAuc: truth.rocAuc, records: truth.records },
      deviations: {
        accuracy: apart(noisy.accuracy, truth.accuracy, noisy.std.accuracy),
        loss: apart(noisy.loss, truth.loss, noisy.std.loss)!,
        rocAuc: apart(noisy.rocAuc, truth.rocAuc, noisy.std.rocAuc),
      },
    });
  }
  return out;
}
