/**
 * The smallest federation settings the aggregator accepts (a 4-input, 3-class linear model, local DP, 2 sites, one
 * round, short timeouts): for the tests of enrollment, authentication and the socket protocol, where the model is
 * beside the point.
 */
export const TINY_LOCAL_SETTINGS = {
  model: { inputSize: 4, layers: [{ units: 3, activation: 'none' }], loss: 'softmax-cross-entropy' },
  rounds: 1,
  cohort: { minSites: 2, maxSites: 2 },
  privacy: { mode: 'local', sampleRate: 0.5, noiseMultiplier: 1, steps: 1, clipNorm: 1, delta: 1e-5 },
  optimization: { learningRate: 0.1, momentum: 0, proximalMu: 0 },
  server: { optimizer: 'fedavg', learningRate: 1, momentum: 0 },
  encoding: { clip: 1, scaleBits: 16 },
  timeouts: { planMs: 2000, stageMs: 2000, trainingMs: 5000 },
};
