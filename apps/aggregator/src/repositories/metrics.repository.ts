/**
 * Prometheus metrics (prom-client), one registry per app so several aggregators in one process (tests, simulate)
 * never share series.
 *
 * NOTE FOR THE ROUND ENGINE / GATEWAY: nothing has to be called for /metrics to be right. At every scrape,
 * MetricsService.refresh() rebuilds the round, stage, dropout, budget and ledger series from the database (the
 * source of truth, so a restart loses nothing) and reads connected agents from AgentConnectionsRepository. If you
 * want a live event counted between scrapes, call the `observe*`/`set*` methods below; they only touch the
 * `concord_live_*` series, so nothing is counted twice.
 *
 * Series: concord_rounds{federation,outcome}; concord_round_duration_seconds{outcome} and
 * concord_stage_duration_seconds{stage} histograms; concord_connected_agents{federation};
 * concord_dropouts{federation}; concord_epsilon_spent{federation,site} and concord_epsilon_cap{federation,site};
 * concord_ledger_verified{federation} (1 ok, 0 findings); concord_ledger_findings{federation};
 * concord_ledger_head_seq{federation}; concord_evaluation_{accuracy,loss,roc_auc}{federation} and their `_std` (the
 * newest privately evaluated model version's noisy metric and the std of its noise) with
 * concord_evaluation_model_version{federation}; process metrics with the concord_ prefix.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** [key in a model version's metrics, series name, help]; the std is the DP noise's, so a value is "x ± std". */
export const EVALUATION_GAUGES = [
  ['accuracy', 'concord_evaluation_accuracy', 'noisy accuracy of the newest privately evaluated model version'],
  ['accuracyStd', 'concord_evaluation_accuracy_std', 'standard deviation of the DP noise on that accuracy'],
  ['loss', 'concord_evaluation_loss', 'noisy mean clipped loss of the newest privately evaluated model version'],
  ['lossStd', 'concord_evaluation_loss_std', 'standard deviation of the DP noise on that loss'],
  ['rocAuc', 'concord_evaluation_roc_auc', 'noisy ROC AUC (binary tables) of the newest evaluated model version'],
  ['rocAucStd', 'concord_evaluation_roc_auc_std', 'standard deviation of the DP noise on that ROC AUC'],
] as const;

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export class MetricsRepository {
  readonly registry = new Registry();
  readonly rounds = new Gauge({
    name: 'concord_rounds',
    help: 'rounds by outcome (released, failed, or the state of a round in progress)',
    labelNames: ['federation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly roundDuration = new Histogram({
    name: 'concord_round_duration_seconds',
    help: 'wall time of finished rounds, creation to last update',
    labelNames: ['outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly stageDuration = new Histogram({
    name: 'concord_stage_duration_seconds',
    help: 'time spent in each round stage (from the rounds stage timings)',
    labelNames: ['stage'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly connectedAgents = new Gauge({
    name: 'concord_connected_agents',
    help: 'authenticated agent connections',
    labelNames: ['federation'] as const,
    registers: [this.registry],
  });
  readonly dropouts = new Gauge({
    name: 'concord_dropouts',
    help: 'cohort members that dropped out, over all rounds',
    labelNames: ['federation'] as const,
    registers: [this.registry],
  });
  readonly epsilonSpent = new Gauge({
    name: 'concord_epsilon_spent',
    help: "a site's epsilon (nats) recomputed from the privacy ledger, at its cap's delta",
    labelNames: ['federation', 'site'] as const,
    registers: [this.registry],
  });
  readonly epsilonCap = new Gauge({
    name: 'concord_epsilon_cap',
    help: "a site's declared epsilon cap",
    labelNames: ['federation', 'site'] as const,
    registers: [this.registry],
  });
  readonly ledgerVerified = new Gauge({
    name: 'concord_ledger_verified',
    help: '1 when the ledger chain, signatures, sequences and caps verify, 0 with findings',
    labelNames: ['federation'] as const,
    registers: [this.registry],
  });
  readonly ledgerFindings = new Gauge({
    name: 'concord_ledger_findings',
    help: 'findings of the last ledger verification',
    labelNames: ['federation'] as const,
    registers: [this.registry],
  });
  readonly ledgerHeadSeq = new Gauge({
    name: 'concord_ledger_head_seq',
    help: 'seq of the newest ledger entry',
    labelNames: ['federation'] as const,
    registers: [this.registry],
  });
  /** The newest private evaluation per federation: metric and noise std, gauges keyed by the metric's name. */
  readonly evaluation = Object.fromEntries(
    EVALUATION_GAUGES.map(([key, name, help]) => [
      key,
      new Gauge({ name, help, labelNames: ['federation'] as const, registers: [this.registry] }),
    ]),
  ) as Record<(typeof EVALUATION_GAUGES)[number][0], Gauge<'federation'>>;
  readonly evaluatedVersion = new Gauge({
    name: 'concord_evaluation_model_version',
    help: 'the model version the concord_evaluation_* series are of',
    labelNames: ['federation'] as const,
    registers: [this.registry],
  });
  readonly liveRounds = new Counter({
    name: 'concord_live_rounds_total',
    help: 'rounds finished in this process, as reported by the round engine',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'concord_' });
  }

  /** For the round engine: a round finished in this process (optional; see the header). */
  observeRoundFinished(outcome: 'released' | 'failed'): void {
    this.liveRounds.inc({ outcome });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
