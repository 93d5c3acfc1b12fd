/**
 * The site's validation split: each record goes to validation or to training by a coin only the site can compute,
 * HMAC-SHA256 under a key derived from the site's secret identity seed (RFC 2104), of the record's own bytes
 * (features and label). The coin is therefore
 * - per record: adding or removing one record never moves another between the two sides (what the max rule of
 *   libs/dp accountant.ts needs: a record is seen by training or by evaluation, never both);
 * - fixed for the federation's life: the key depends only on the identity seed (made fresh at each enrollment, so one
 *   per site and federation) and the pinned split seed, and the fraction is pinned at enrollment (an evaluation plan
 *   with another split is refused);
 * - private: the aggregator, which never sees the identity seed, cannot tell which records are held out.
 * A record that appears twice lands twice on the same side (the coin is a function of its bytes).
 */
import { createHmac } from 'node:crypto';
import type { ValidationSplit } from '@concord/protocol';
import type { TrainingData } from '../runtime/context.js';

export interface SplitData {
  training: TrainingData;
  /** null when the site pinned no validation split */
  validation: TrainingData | null;
}

const DOMAIN = 'concord/validation-split/v1';

/**
 * The last split of each data object (a site's data is one object for the agent's life): the split is recomputed
 * only when the data, the identity seed or the pinned split differ, not every round (one HMAC per record).
 */
const splits = new WeakMap<
  TrainingData,
  { identitySeed: Uint8Array; fraction: number; seed: number; out: SplitData }
>();

/** The training and validation parts of `data` under `split` (absent: every record trains). Pure; never mutates. */
export function splitValidation(
  data: TrainingData,
  identity: { identitySeed: Uint8Array },
  split: ValidationSplit | undefined,
): SplitData {
  if (!split) return { training: data, validation: null };
  if (!(split.fraction > 0 && split.fraction <= 0.5)) throw new RangeError('split.fraction: expected (0, 0.5]');
  const cached = splits.get(data);
  if (
    cached &&
    cached.identitySeed === identity.identitySeed &&
    cached.fraction === split.fraction &&
    cached.seed === split.seed
  ) {
    return cached.out;
  }
  const key = createHmac('sha256', identity.identitySeed).update(`${DOMAIN}\0${split.seed}`).digest();
  const { count, featureCount } = data;
  const labelsPerRow = count === 0 ? 1 : data.labels.length / count;
  if (!Number.isInteger(labelsPerRow)) throw new RangeError('data: labels do not divide into rows');
  const held: number[] = [];
  const kept: number[] = [];
  for (let i = 0; i < count; i++) {
    const mac = createHmac('sha256', key);
    mac.update(bytesOf(data.features, i * featureCount, featureCount));
    mac.update(bytesOf(data.labels, i * labelsPerRow, labelsPerRow));
    // 48 bits of the MAC as a uniform number in [0, 1)
    (mac.digest().readUIntBE(0, 6) / 2 ** 48 < split.fraction ? held : kept).push(i);
  }
  const out = { training: rowsOf(data, kept, labelsPerRow), validation: rowsOf(data, held, labelsPerRow) };
  splits.set(data, { identitySeed: identity.identitySeed, fraction: split.fraction, seed: split.seed, out });
  return out;
}

function bytesOf(values: Float32Array, offset: number, length: number): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset + offset * 4, length * 4);
}

function rowsOf(data: TrainingData, rows: readonly number[], labelsPerRow: number): TrainingData {
  const { featureCount } = data;
  const features = new Float32Array(rows.length * featureCount);
  const labels = new Float32Array(rows.length * labelsPerRow);
  rows.forEach((row, j) => {
    features.set(data.features.subarray(row * featureCount, (row + 1) * featureCount), j * featureCount);
    labels.set(data.labels.subarray(row * labelsPerRow, (row + 1) * labelsPerRow), j * labelsPerRow);
  });
  return { features, labels, count: rows.length, featureCount };
}
