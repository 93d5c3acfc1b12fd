/**
 * Server optimizers: how the aggregator turns a round's averaged update into the next global model.
 *
 * Reddi, Charles, Zaheer, Garrett, Rush, Konečný, Kumar, McMahan 2021, "Adaptive Federated Optimization", ICLR,
 * Algorithm 2 (cited [R21]): the round's "pseudo-gradient" is Delta_t = mean of the sites' deltas (w_after -
 * w_before; in distributed mode minus the noisy DP-SGD gradient), then
 *   FedAvg  (McMahan et al. 2017):     x += eta * Delta
 *   FedAvgM (Hsu, Qi, Brown 2019):     m = beta1 m + Delta;                          x += eta * m
 *   FedAdam ([R21] Alg. 2):           m = beta1 m + (1 - beta1) Delta;  v = beta2 v + (1 - beta2) Delta^2;
 *                                      x += eta * m / (sqrt(v) + tau)
 *   FedYogi ([R21] Alg. 2):           m as FedAdam;  v = v - (1 - beta2) Delta^2 sign(v - Delta^2);  x as FedAdam
 * [R21] uses no bias correction and initialises v to tau^2 (Section 3 / Appendix, "v_{-1} >= tau^2"); we do the same.
 * Units: eta (server learning rate) multiplies model units; tau (adaptivity) is in model units.
 *
 * Everything is a pure function of (config, state, weights, update): the state is plain data (serialisable with
 * `serializeOptimizerState`), so the aggregator can persist it with each model version and resume after a crash.
 */

import { ConcordError, SERVER_OPTIMIZER_NAMES } from '@concord/protocol';

/** The one list of server optimizers: the federation spec's (libs/protocol), so spec and optimizer cannot drift. */
export const SERVER_OPTIMIZERS = SERVER_OPTIMIZER_NAMES;
export type ServerOptimizerName = (typeof SERVER_OPTIMIZER_NAMES)[number];

export interface ServerOptimizerConfig {
  name: ServerOptimizerName;
  /** eta: server learning rate (> 0). */
  learningRate: number;
  /** beta1 in [0, 1): momentum (FedAvgM) or first-moment decay (FedAdam/FedYogi). Default 0.9. */
  momentum?: number;
  /** beta2 in [0, 1): second-moment decay (FedAdam/FedYogi). Default 0.99. */
  secondMomentDecay?: number;
  /** tau > 0: adaptivity, the floor of the denominator (FedAdam/FedYogi). Default 1e-3 ([R21] grid). */
  adaptivity?: number;
}

/** Optimizer state after `round` updates; `firstMoment`/`secondMoment` are absent for FedAvg. */
export interface ServerOptimizerState {
  name: ServerOptimizerName;
  round: number;
  firstMoment?: Float32Array;
  secondMoment?: Float32Array;
}

export class FedOptError extends ConcordError {
  override readonly code: 'E_FEDOPT_STATE' | 'E_FEDOPT_SPEC' | 'E_FEDOPT_BUDGET';
  constructor(code: FedOptError['code'], message: string) {
    super(code, message);
    this.name = 'FedOptError';
    this.code = code;
  }
}

function requireUnitInterval(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!(value >= 0 && value < 1)) throw new RangeError(`${name} must be in [0, 1), got ${value}`);
  return value;
}

function requirePositive(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a finite number > 0, got ${value}`);
  return value;
}

/** Fills defaults and checks ranges. Throws TypeError / RangeError naming the field. */
export function resolveOptimizerConfig(config: ServerOptimizerConfig): Required<ServerOptimizerConfig> {
  if (typeof config !== 'object' || config === null) throw new TypeError('config must be an object');
  if (!SERVER_OPTIMIZERS.includes(config.name)) {
    throw new RangeError(`config.name must be one of ${SERVER_OPTIMIZERS.join(', ')}, got ${String(config.name)}`);
  }
  return {
    name: config.name,
    learningRate: requirePositive(config.learningRate, 'config.learningRate'),
    momentum: requireUnitInterval(config.momentum ?? 0.9, 'config.momentum'),
    secondMomentDecay: requireUnitInterval(config.secondMomentDecay ?? 0.99, 'config.secondMomentDecay'),
    adaptivity: requirePositive(config.adaptivity ?? 1e-3, 'config.adaptivity'),
  };
}

/** The state before the first round for a model of `parameterCount` values. */
export function initialOptimizerState(config: ServerOptimizerConfig, parameterCount: number): ServerOptimizerState {
  const c = resolveOptimizerConfig(config);
  if (!Number.isInteger(parameterCount) || parameterCount < 1) {
    throw new RangeError(`parameterCount must be a positive integer, got ${parameterCount}`);
  }
  if (c.name === 'fedavg') return { name: c.name, round: 0 };
  if (c.name === 'fedavgm') return { name: c.name, round: 0, firstMoment: new Float32Array(parameterCount) };
  return {
    name: c.name,
    round: 0,
    firstMoment: new Float32Array(parameterCount),
    secondMoment: new Float32Array(parameterCount).fill(c.adaptivity * c.adaptivity),
  };
}

function checkState(state: ServerOptimizerState, name: ServerOptimizerName, p: number): void {
  if (typeof state !== 'object' || state === null) throw new TypeError('state must be an object');
  if (state.name !== name) {
    throw new FedOptError('E_FEDOPT_STATE', `state belongs to optimizer '${state.name}', not '${name}'`);
  }
  const needs = name === 'fedavg' ? [] : name === 'fedavgm' ? ['firstMoment'] : ['firstMoment', 'secondMoment'];
  for (const key of needs as ('firstMoment' | 'secondMoment')[]) {
    const v = state[key];
    if (!(v instanceof Float32Array) || v.length !== p) {
      throw new FedOptError('E_FEDOPT_STATE', `state.${key} must be a Float32Array of ${p} values`);
    }
  }
}

/**
 * One server step. `update` is the round's pseudo-gradient Delta_t (mean site delta, model units). Returns new
 * weights and a new state; the inputs are not modified. Throws TypeError / RangeError on bad arguments,
 * FedOptError E_FEDOPT_STATE when the state does not match the optimizer or the model size.
 */
export function applyServerOptimizer(
  config: ServerOptimizerConfig,
  state: ServerOptimizerState,
  weights: Float32Array,
  update: Float32Array,
): { weights: Float32Array; state: ServerOptimizerState } {
  const c = resolveOptimizerConfig(config);
  if (!(weights instanceof Float32Array)) throw new TypeError('weights must be a Float32Array');
  if (!(update instanceof Float32Array)) throw new TypeError('update must be a Float32Array');
  const p = weights.length;
  if (update.length !== p) throw new RangeError(`update has ${update.length} values, weights ${p}`);
  for (let i = 0; i < p; i++) {
    if (!Number.isFinite(update[i])) throw new RangeError(`update[${i}] is not finite`);
  }
  checkState(state, c.name, p);
  const eta = c.learningRate;
  const next = new Float32Array(p);
  if (c.name === 'fedavg') {
    for (let i = 0; i < p; i++) next[i] = weights[i] + eta * update[i];
    return { weights: next, state: { name: c.name, round: state.round + 1 } };
  }
  const m = Float32Array.from(state.firstMoment!);
  if (c.name === 'fedavgm') {
    for (let i = 0; i < p; i++) {
      m[i] = c.momentum * m[i] + update[i];
      next[i] = weights[i] + eta * m[i];
    }
    return { weights: next, state: { name: c.name, round: state.round + 1, firstMoment: m } };
  }
  const v = Float32Array.from(state.secondMoment!);
  const b1 = c.momentum;
  const b2 = c.secondMomentDecay;
  for (let i = 0; i < p; i++) {
    const d = update[i];
    const d2 = d * d;
    m[i] = b1 * m[i] + (1 - b1) * d;
    if (c.name === 'fedadam') v[i] = b2 * v[i] + (1 - b2) * d2;
    else v[i] = v[i] - (1 - b2) * d2 * Math.sign(v[i] - d2);
    next[i] = weights[i] + (eta * m[i]) / (Math.sqrt(v[i]) + c.adaptivity);
  }
  return { weights: next, state: { name: c.name, round: state.round + 1, firstMoment: m, secondMoment: v } };
}

/** JSON form of the state: moments as base64 of their little-endian float32 bytes (exact round trip). */
export interface SerializedOptimizerState {
  name: ServerOptimizerName;
  round: number;
  firstMoment?: string;
  secondMoment?: string;
}

function toBase64(v: Float32Array): string {
  const bytes = new Uint8Array(v.length * 4);
  const view = new DataView(bytes.buffer);
  v.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return Buffer.from(bytes).toString('base64');
}

function fromBase64(text: unknown, name: string): Float32Array {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new FedOptError('E_FEDOPT_STATE', `${name} must be base64`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new FedOptError('E_FEDOPT_STATE', `${name} is not a whole number of float32`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

export function serializeOptimizerState(state: ServerOptimizerState): SerializedOptimizerState {
  if (typeof state !== 'object' || state === null) throw new TypeError('state must be an object');
  const out: SerializedOptimizerState = { name: state.name, round: state.round };
  if (state.firstMoment) out.firstMoment = toBase64(state.firstMoment);
  if (state.secondMoment) out.secondMoment = toBase64(state.secondMoment);
  return out;
}

/** Inverse of serializeOptimizerState; throws FedOptError E_FEDOPT_STATE on a malformed document. */
export function deserializeOptimizerState(value: unknown): ServerOptimizerState {
  if (typeof value !== 'object' || value === null) throw new TypeError('state must be an object');
  const s = value as Record<string, unknown>;
  if (!SERVER_OPTIMIZERS.includes(s.name as ServerOptimizerName)) {
    throw new FedOptError('E_FEDOPT_STATE', `state.name must be one of ${SERVER_OPTIMIZERS.join(', ')}`);
  }
  if (!Number.isSafeInteger(s.round) || (s.round as number) < 0) {
    throw new FedOptError('E_FEDOPT_STATE', 'state.round must be a non-negative integer');
  }
  const state: ServerOptimizerState = { name: s.name as ServerOptimizerName, round: s.round as number };
  if (s.firstMoment !== undefined) state.firstMoment = fromBase64(s.firstMoment, 'state.firstMoment');
  if (s.secondMoment !== undefined) state.secondMoment = fromBase64(s.secondMoment, 'state.secondMoment');
  return state;
}
