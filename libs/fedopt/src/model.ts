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
 * The starting model of a binary table (a spec with schema-driven `columns` and a `positiveClass`), applied in place
 * to the weights `initWeights` drew: a logistic regression (one layer) starts from zero weights, since it has no
 * symmetry to break and a random direction is what DP-SGD's few noisy steps would first have to unlearn; and the
 * output bias starts at the logit of the spec's PUBLIC `classPrior`, log(p / (1 - p)), so the first clipped
 * gradients go to the features rather than to the base rate (never a site's label balance). Other specs and
 * models are left as drawn. Returns whether anything changed.
 */
export function initializeTableModel(
  dataset: FederationSpec['dataset'] | undefined,
  model: FederationModel,
  weights: Float32Array,
): boolean {
  if (!(weights instanceof Float32Array)) throw new TypeError('weights must be a Float32Array');
  if (dataset?.kind !== 'table' || dataset.columns === undefined || dataset.positiveClass === undefined) return false;
  if (model.loss !== 'sigmoid-binary-cross-entropy' || model.layers[model.layers.length - 1].units !== 1) return false;
  if (weights.length !== parameterCountOf(model)) throw new RangeError('weights do not match the model');
  if (model.layers.length === 1) weights.fill(0);
  if (dataset.classPrior !== undefined)
    weights[weights.length - 1] = Math.log(dataset.classPrior / (1 - dataset.classPrior));
  return true;
}
