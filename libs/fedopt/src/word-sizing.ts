/**
 * Encodings sized from the sites' data and noise (issue 20), so the SecAgg+ modulus the plan derives
 * (libs/protocol events/modulus.ts) is narrow. Both need the records a site holds (N), which only a party that
 * knows the data (a simulation, an operator who states it) can give; without it the plan keeps its stored encoding.
 *
 * - local: one site's delta carries per coordinate DP-SGD noise of std sigma = lr z C sqrt(steps) / (q N) (native
 *   train.cc divides the noisy sum by the expected batch q N). The grid 2^-s is the largest power of two <= sigma/4
 *   (stochastic rounding adds variance <= grid^2 / 4 <= sigma^2 / 64), and each value is clipped to 3 sigma: the
 *   noise alone leaves [-3 sigma, 3 sigma] for 0.3% of values, so the clip mostly trims noise, not signal.
 * - distributed: each site's summed record vector is clamped per coordinate to countWeight x (qN + 6 sqrt(qN) + 1),
 *   the count coordinate of a batch six standard deviations above the expected Poisson batch. Gradient coordinates
 *   of a batch are far below their worst case (batch x C) in practice; a clamp that bites is 1-Lipschitz (no privacy
 *   effect) and only biases that coordinate.
 */

export function localEncodingFromNoise(o: {
  learningRate: number;
  noiseMultiplier: number;
  clipNorm: number;
  sampleRate: number;
  steps: number;
  recordsPerSite: number;
}): { clip: number; scaleBits: number } {
  const sigma =
    (o.learningRate * o.noiseMultiplier * o.clipNorm * Math.sqrt(o.steps)) / (o.sampleRate * o.recordsPerSite);
  if (!(Number.isFinite(sigma) && sigma > 0))
    throw new RangeError('localEncodingFromNoise: the noise must be positive');
  const scaleBits = Math.min(24, Math.max(0, Math.ceil(Math.log2(4 / sigma))));
  // the clip on the grid, so n sites' bound n x clip x 2^s is exact
  const clip = Math.max(1, Math.floor(3 * sigma * 2 ** scaleBits)) / 2 ** scaleBits;
  return { clip, scaleBits };
}

export function distributedClampFromData(o: {
  sampleRate: number;
  countWeight: number;
  recordsPerSite: number;
}): number {
  const batch = o.sampleRate * o.recordsPerSite;
  if (!(Number.isFinite(batch) && batch > 0))
    throw new RangeError('distributedClampFromData: expected a positive batch');
  return o.countWeight * (batch + 6 * Math.sqrt(batch) + 1);
}
