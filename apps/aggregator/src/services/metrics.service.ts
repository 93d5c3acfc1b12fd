import type { AgentConnectionsRepository } from '../repositories/agent-connections.repository.js';
import type { MetricsRepository } from '../repositories/metrics.repository.js';
import type { MetricsQueryRepository } from '../repositories/metrics-query.repository.js';
import type { LedgerAuditCache } from '../ledger/audit-cache.js';

/**
 * Rebuilds the Prometheus series from the database at each scrape (see metrics.repository.ts). The ledger audit of
 * a federation is the shared LedgerAuditCache's (the one the budgets and ledger status read): recomputed only when
 * its head moved, so a scrape costs one head query per federation otherwise.
 */
export class MetricsService {
  constructor(
    private readonly metrics: MetricsRepository,
    private readonly queries: MetricsQueryRepository,
    private readonly audits: Pick<LedgerAuditCache, 'audit'>,
    private readonly connections: AgentConnectionsRepository,
  ) {}

  async scrape(): Promise<{ contentType: string; text: string }> {
    await this.refresh();
    return { contentType: this.metrics.contentType, text: await this.metrics.text() };
  }

  async refresh(): Promise<void> {
    const m = this.metrics;
    const [federationRows, byState, finished, dropouts, evaluations] = await Promise.all([
      this.queries.federationIds(),
      this.queries.roundsByState(),
      this.queries.finishedRounds(),
      this.queries.dropoutsByFederation(),
      this.queries.latestEvaluations(),
    ]);
    m.rounds.reset();
    for (const r of byState) m.rounds.set({ federation: r.federationId, outcome: r.state }, Number(r.n));
    m.roundDuration.reset();
    m.stageDuration.reset();
    for (const r of finished) {
      m.roundDuration.observe({ outcome: r.state }, Math.max(0, r.updatedAt.getTime() - r.createdAt.getTime()) / 1000);
      for (const [stage, ms] of Object.entries(r.stageTimings ?? {})) {
        if (Number.isFinite(ms) && ms >= 0) m.stageDuration.observe({ stage }, ms / 1000);
      }
    }
    m.dropouts.reset();
    m.connectedAgents.reset();
    m.epsilonSpent.reset();
    m.epsilonCap.reset();
    for (const { id } of federationRows) {
      m.dropouts.set({ federation: id }, 0);
      m.connectedAgents.set({ federation: id }, this.connections.connectedSites(id).length);
    }
    for (const d of dropouts) m.dropouts.set({ federation: d.federationId }, Number(d.n));
    for (const gauge of Object.values(m.evaluation)) gauge.reset();
    m.evaluatedVersion.reset();
    for (const e of evaluations) {
      m.evaluatedVersion.set({ federation: e.federationId }, e.version);
      for (const [key, gauge] of Object.entries(m.evaluation)) {
        const value = e.metrics[key];
        // a metric the task has not (rocAuc of a 10-class model) is absent, not 0
        if (typeof value === 'number' && Number.isFinite(value)) gauge.set({ federation: e.federationId }, value);
      }
    }
    for (const { id } of federationRows) {
      const report = await this.audits.audit(id);
      m.ledgerVerified.set({ federation: id }, report.ok ? 1 : 0);
      m.ledgerFindings.set({ federation: id }, report.findings.length);
      m.ledgerHeadSeq.set({ federation: id }, report.head.seq);
      for (const s of report.sites) {
        m.epsilonSpent.set({ federation: id, site: s.site }, s.epsilon);
        m.epsilonCap.set({ federation: id, site: s.site }, s.cap);
      }
    }
  }
}
