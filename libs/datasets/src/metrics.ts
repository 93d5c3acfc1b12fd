/**
 * Binary classification metrics on scores (logits or probabilities; only their order matters for the AUCs).
 * - ROC AUC by the rank-sum (Mann-Whitney U) identity with mid-ranks for ties, so a tie between a positive and a
 *   negative counts one half (Hanley & McNeil 1982, "The meaning and use of the area under a ROC curve",
 *   Radiology 143, Section II); equal to the trapezoidal area under the ROC curve whose points are taken only
 *   between distinct scores.
 * - PR AUC as average precision (the step-wise area, no interpolation: Davis & Goadrich 2006, Section 4 explain
 *   why linear interpolation in PR space is wrong), with tied scores entering as one threshold, as in
 *   scikit-learn's average_precision_score.
 * - log-loss: mean binary cross-entropy of logits, computed stably.
 */

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>): { positives: number; n: number } {
  if (typeof scores !== 'object' || scores === null || typeof scores.length !== 'number')
    throw new TypeError('scores must be an array of numbers');
  if (typeof labels !== 'object' || labels === null || typeof labels.length !== 'number')
    throw new TypeError('labels must be an array of numbers');
  if (scores.length !== labels.length)
    throw new RangeError(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new RangeError(`labels[${i}] must be 0 or 1, got ${labels[i]}`);
    if (Number.isNaN(scores[i])) throw new RangeError(`scores[${i}] is NaN`);
    positives += labels[i];
  }
  return { positives, n: labels.length };
}

function orderDescending(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
}

/** Area under the ROC curve; RangeError unless both classes are present. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, n } = checkInputs(scores, labels);
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('ROC AUC needs both classes');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) if (labels[order[k]] === 1) rankSum += midRank;
    i = j + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Average precision: sum over thresholds of (recall step) x precision; RangeError without positives. */
export function prAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, n } = checkInputs(scores, labels);
  if (positives === 0) throw new RangeError('PR AUC needs at least one positive');
  const order = orderDescending(scores);
  let truePositives = 0;
  let seen = 0;
  let area = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    let gained = 0;
    for (let k = i; k <= j; k++) gained += labels[order[k]];
    truePositives += gained;
    seen += j - i + 1;
    area += (gained / positives) * (truePositives / seen);
    i = j + 1;
  }
  return area;
}

/** Mean binary cross-entropy (nats) of logits z against 0/1 labels: max(z, 0) - z y + log1p(exp(-|z|)). */
export function logLoss(logits: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { n } = checkInputs(logits, labels);
  if (n === 0) throw new RangeError('log-loss of no rows');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const z = logits[i];
    sum += Math.max(z, 0) - z * labels[i] + Math.log1p(Math.exp(-Math.abs(z)));
  }
  return sum / n;
}

export interface BinaryMetrics {
  rocAuc: number;
  prAuc: number;
  logLoss: number;
  /** fraction of rows whose logit sign matches the label */
  accuracy: number;
  positives: number;
  count: number;
}

/** All of the above at once, from logits. */
export function binaryMetrics(logits: ArrayLike<number>, labels: ArrayLike<number>): BinaryMetrics {
  const { positives, n } = checkInputs(logits, labels);
  let hits = 0;
  for (let i = 0; i < n; i++) hits += logits[i] > 0 === (labels[i] === 1) ? 1 : 0;
  return {
    rocAuc: rocAuc(logits, labels),
    prAuc: prAuc(logits, labels),
    logLoss: logLoss(logits, labels),
    accuracy: hits / n,
    positives,
    count: n,
  };
}
