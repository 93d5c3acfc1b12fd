/**
 * The audit's synthetic federation: seeds, the secret coins, the model and the data. The audit model is a linear
 * softmax classifier on LIVE real features plus one "dead" input column per pair of canaries (always 0 in real
 * records), so every white-box canary owns one weight that no real record's gradient touches: its score is its own
 * signal plus the mechanism's noise and nothing else, the setting of Nasr et al. 2021 and [SNJ23] section 6.
 */
import { createHash } from 'node:crypto';
import { gaussianNoise, type ModelSpec } from '@concord/native';

export const LIVE = 8;

/** 32 bytes from the master seed and a label: independent streams for coins, data, and each round's randomness. */
export function deriveSeed(master: Uint8Array, label: string, index = 0): Uint8Array {
  return new Uint8Array(createHash('sha256').update(master).update(`${label}/${index}`).digest());
}

/** The secret coins: canary i is included with probability 1/2. */
export function drawCoins(master: Uint8Array, m: number): boolean[] {
  const coins: boolean[] = [];
  for (let i = 0; i < m; i += 256) {
    const block = createHash('sha256').update(master).update(`coins/${i}`).digest();
    const more = createHash('sha256').update(block).digest();
    const bytes = Buffer.concat([block, more]);
    for (let j = 0; j < 256 && i + j < m; j++) coins.push(((bytes[j >> 3] >> (j & 7)) & 1) === 1);
  }
  return coins;
}

export interface AuditModel {
  spec: ModelSpec;
  parameters: number;
  /** canary i's weight: W[i mod 2][LIVE + floor(i / 2)] */
  canaryCoordinate: (i: number) => number;
}

/** `deadColumns` dead inputs (white-box: ceil(m / 2); black-box: 0). */
export function auditModel(deadColumns: number): AuditModel {
  const input = LIVE + deadColumns;
  const spec: ModelSpec = {
    inputSize: input,
    layers: [{ units: 2, activation: 'none' }],
    loss: 'softmax-cross-entropy',
  };
  return {
    spec,
    parameters: 2 * input + 2,
    canaryCoordinate: (i) => (i % 2) * input + LIVE + Math.floor(i / 2),
  };
}

/** The rule the synthetic labels follow (public, fixed). */
const TRUTH = [1, -1, 0.5, -0.5, 0.8, 0.3, -0.7, 0.2];

/**
 * `n` records with standard normal live features (native CSPRNG sampler), dead columns 0, labels
 * 1[x . TRUTH > 0]; `flip` inverts the labels (the black-box canaries are mislabeled on purpose).
 */
export async function syntheticRecords(
  n: number,
  input: number,
  seed: Uint8Array,
  flip = false,
): Promise<{ features: Float32Array; labels: Float32Array }> {
  const z = await gaussianNoise(n * LIVE, 1, seed);
  const features = new Float32Array(n * input);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < LIVE; j++) {
      const v = z[i * LIVE + j];
      features[i * input + j] = v;
      dot += v * TRUTH[j];
    }
    labels[i] = dot > 0 !== flip ? 1 : 0;
  }
  return { features, labels };
}
