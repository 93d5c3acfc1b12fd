export * from './dataset.js';
export * from './mnist.js';
export * from './partition.js';
export * from './seeded-random.js';
export * from './preprocess.js';
export * from './tabular.js';
export * from './tables.js';
export * from './metrics.js';
