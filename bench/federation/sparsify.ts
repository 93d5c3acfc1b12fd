/**
 * Update sparsification for the in-process harness (issue 20, stretch): which coordinates a site sends.
 *
 * - shared-seed (random-k with a seed common to the round): every site sends the SAME k pseudo-randomly chosen
 *   coordinates, so the k-vectors add coordinate-wise and SecAgg+ can sum them (the masks never see an index). The
 *   coordinates come from the round's public seed, so they reveal nothing about any site's data. Optionally rescaled
 *   by d/k (unbiased, Konecny et al. 2016 "Federated learning: strategies for improving communication efficiency",
 *   random mask), or not (a random block-coordinate step).
 * - top-k with error feedback (Stich, Cordonnier, Jaggi 2018 "Sparsified SGD with memory"): each site sends its own
 *   k largest coordinates as (index, value) and keeps the rest in a residual added to its next delta. The sets differ
 *   between sites, so the vectors cannot be summed under SecAgg: the aggregator sees each site's sparse update
 *   (the baseline the issue asks to compare against, WITHOUT secure aggregation). In local DP mode it remains
 *   post-processing of the noisy delta, so the site's DP guarantee is unchanged; what is lost is SecAgg's hiding.
 *
 * Only benchmark code: the protocol has no sparsified plans (docs/benchmarks.md says what it would need).
 */
import { createHash } from 'node:crypto';

export type Sparsifier =
  { kind: 'shared-seed'; fraction: number; rescale: boolean } | { kind: 'top-k'; fraction: number };

/** k = round(fraction x d), at least 1. */
export function keptCount(fraction: number, dimension: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`fraction: expected (0, 1], got ${fraction}`);
  return Math.max(1, Math.round(fraction * dimension));
}

/**
 * The round's k coordinates, sorted: a partial Fisher-Yates shuffle driven by SHA-256 in counter mode over the
 * public seed (uniform up to the 2^-32 modulo bias of a 32-bit draw, far below anything measured here).
 */
export function sharedCoordinates(seed: string, dimension: number, k: number): Uint32Array {
  const order = new Uint32Array(dimension);
  for (let i = 0; i < dimension; i++) order[i] = i;
  let block = Buffer.alloc(0);
  let offset = 0;
  let counter = 0;
  const draw = (): number => {
    if (offset + 4 > block.length) {
      block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      offset = 0;
    }
    const v = block.readUInt32LE(offset);
    offset += 4;
    return v;
  };
  for (let i = 0; i < k; i++) {
    const j = i + (draw() % (dimension - i));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order.slice(0, k).sort();
}

/** The indices of the k largest |values|, sorted (ties broken by index). */
export function topCoordinates(values: Float32Array, k: number): Uint32Array {
  const order = Array.from(values.keys());
  order.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  return Uint32Array.from(order.slice(0, k)).sort();
}

/** Bytes one site sends for d coordinates at b bits: shared-seed ceil(b k / 8); top-k k x (4-byte index) + ceil(b k / 8). */
export function sparsePayloadBytes(s: Sparsifier, bits: number, dimension: number): number {
  const k = keptCount(s.fraction, dimension);
  const values = Math.ceil((bits * k) / 8);
  return s.kind === 'shared-seed' ? values : 4 * k + values;
}
