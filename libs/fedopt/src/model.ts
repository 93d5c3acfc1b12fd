/** Sizes of a federation's model, computed without loading the native addon. */
import { encodedWidth, preprocessedSize } from '@concord/datasets';
import { parameterCount, type ModelSpec } from '@concord/native/spec';
import type { FederationModel, FederationSpec } from '@concord/protocol';
import { FedOptError } from './optimizers.js';

/**
 * Number of parameters in the native flat layout (weight [units x in] then bias [units] per layer): the native
 * package's own `parameterCount` (native/lib/spec.ts, a pure function: the addon is not loaded).
 */
export function parameterCountOf(model: FederationModel): number {
  return parameterCount(model as ModelSpec);
}

/** Features per row after `plan`; FedOptError E_FEDOPT_SPEC when the plan does not fit the raw rows. */
export function preprocessedInputSize(
  plan: NonNullable<FederationSpec['preprocessing']>,
  rawInputSize: number,
): number {
  try {
    return preprocessedSize(plan, rawInputSize);
  } catch (error) {
    throw new FedOptError('E_FEDOPT_SPEC', `preprocessing: ${(error as Error).message}`);
  }
}

/** Features per row of a table dataset before any preprocessing step: its numeric columns, or its encoded width. */
export function tableInputSize(dataset: Extract<FederationSpec['dataset'], { kind: 'table' }>): number {
  if (dataset.featureColumns) return dataset.featureColumns.length;
  try {
    return encodedWidth({ columns: dataset.columns ?? [] });
  } catch (error) {
    throw new FedOptError('E_FEDOPT_SPEC', `dataset.columns: ${(error as Error).message}`);
  }
}

/**
 * The output bias at initialisation for a binary table with a public `classPrior`: its logit, log(p / (1 - p)),
 * so the first rounds' clipped gradients are spent on the features rather than on learning the base rate (the
 * prior is public: the spec's, never a site's label balance). Undefined when it does not apply (no prior, or a
 * model whose last layer is not one sigmoid unit). The bias is the last value of the native flat layout.
 */
export function initialOutputBias(
  dataset: FederationSpec['dataset'] | undefined,
  model: FederationModel,
): number | undefined {
  if (dataset?.kind !== 'table' || dataset.classPrior === undefined) return undefined;
  if (model.loss !== 'sigmoid-binary-cross-entropy' || model.layers[model.layers.length - 1].units !== 1)
    return undefined;
  return Math.log(dataset.classPrior / (1 - dataset.classPrior));
}
