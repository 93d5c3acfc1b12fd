/**
 * @concord/fedopt: server optimizers (FedAvg, FedAvgM, FedAdam, FedYogi; Reddi et al. 2021) with serialisable
 * state, and `resolveTrainingPlan`, which turns a federation spec into the per-round plan with the noise
 * calibrated over the whole federation. Pure: no I/O, no randomness, no clocks.
 */
export * from './optimizers.js';
export * from './calibration.js';
export * from './plan.js';
export { initializeTableModel, parameterCountOf, tableInputSize } from './model.js';
export { parseFederationSpecText, readYamlText, YAML_READ_OPTIONS } from './spec-text.js';
export { distributedClampFromData, localEncodingFromNoise } from './word-sizing.js';
