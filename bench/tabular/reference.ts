/**
 * The benchmark's yardstick: non-private, centralized logistic regression on the same encoded rows, fitted to
 * convergence by Newton's method (iteratively reweighted least squares) with a tiny ridge (1e-6 x rows) that only
 * keeps the Hessian invertible for one-hot columns no row uses. Hand-written (no ML library in the project): 20
 * Newton steps on 122 parameters take about a second.
 */
import { type Dataset } from '@concord/datasets';

function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  // Cholesky: the Hessian plus ridge is symmetric positive definite
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(Math.max(sum, 1e-300)) : sum / l[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * n + k] * y[k];
    y[i] = sum / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
    x[i] = sum / l[i * n + i];
  }
  return x;
}

/** Weights in the native layout (feature weights, then the bias) of the fitted logistic regression. */
export function fitLogisticRegression(train: Dataset, iterations = 25): Float32Array {
  const d = train.featureCount;
  const n = d + 1;
  const w = new Float64Array(n);
  const ridge = 1e-6 * train.count;
  const row = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    const hessian = new Float64Array(n * n);
    const gradient = new Float64Array(n);
    for (let r = 0; r < train.count; r++) {
      for (let j = 0; j < d; j++) row[j] = train.features[r * d + j];
      row[d] = 1;
      let z = 0;
      for (let j = 0; j < n; j++) z += w[j] * row[j];
      const p = 1 / (1 + Math.exp(-z));
      const g = p - train.labels[r];
      const h = p * (1 - p);
      for (let i = 0; i < n; i++) {
        if (row[i] === 0) continue;
        gradient[i] += g * row[i];
        const hi = h * row[i];
        for (let j = 0; j <= i; j++) hessian[i * n + j] += hi * row[j];
      }
    }
    for (let i = 0; i < n; i++) {
      gradient[i] += ridge * w[i];
      hessian[i * n + i] += ridge;
      for (let j = 0; j < i; j++) hessian[j * n + i] = hessian[i * n + j];
    }
    const step = solve(hessian, gradient, n);
    let size = 0;
    for (let i = 0; i < n; i++) {
      w[i] -= step[i];
      size = Math.max(size, Math.abs(step[i]));
    }
    if (size < 1e-8) break;
  }
  return Float32Array.from(w);
}
