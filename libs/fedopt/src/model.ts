/** Sizes of a federation's model, computed without loading the native addon. */
import { encodedWidth, preprocessedSize } from '@concord/datasets';
import type { FederationModel, FederationSpec } from '@concord/protocol';
import { FedOptError } from './optimizers.js';

/**
 * Number of parameters in the native flat layout: for each layer, weight [units x in] then bias [units]
 * (native/lib/spec.ts `parameterCount`).
 */
export function parameterCountOf(model: FederationModel): number {
  let inputs = model.inputSize;
  let count = 0;
  for (const layer of model.layers) {
    count += layer.units * inputs + layer.units;
    inputs = layer.units;
  }
  return count;
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
