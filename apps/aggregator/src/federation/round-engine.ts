import { initWeights, parameterCount } from '@concord/native';
import { initializeTableModel, type ServerOptimizerState } from '@concord/fedopt';
import { bytesToFloat32, float32ToBytes } from '@concord/protocol';
import { SecAggError } from '@concord/secagg';
import { isEvaluationDue } from './evaluation-plan.js';
import { waitWhilePaused } from './pause-gate.js';
import type { SecAggSession, StageDrop } from './secagg-session.js';
import { restoreOptimizerState } from './server-optimizer.js';
import { FederationSettingsSchema, type FederationSettings } from './settings.js';
import { chargeThenUnmask } from './stages/charge.js';
import { openRound } from './stages/cohort.js';
import { PlanRefused, sendPlan } from './stages/plan.js';
import { recordEvaluation } from './stages/evaluate.js';
import { releaseModel } from './stages/release.js';
import {
  RoundFailure,
  sha256Hex,
  stopwatch,
  type RoundContext,
  type RoundEngineDeps,
  type RoundReport,
  type RunHooks,
  type RunSummary,
} from './stages/round-context.js';
import { collectMaskedInputs } from './stages/secagg.js';
import { waitForCohortPool } from './stages/waiting.js';
import { appLogger } from '../repositories/logger.repository.js';
import { databaseFailureReason } from '../db/db-errors.js';

export type { RoundEngineDeps, RoundReport, RunHooks, RunSummary } from './stages/round-context.js';

/**
 * Runs a federation's rounds as a persisted state machine: open (cohort, signed plan) -> training (SecAgg+ stages
 * up to the consistency check) -> unmasking (entered in the SAME transaction that charges every survivor's signed
 * receipt, before any share is requested) -> aggregated -> released (model version stored). Any failure marks the
 * round failed (charges kept) and the next attempt is a new round. On start, rounds a previous process left
 * unfinished are failed the same way: SecAgg+ secrets live only in memory, so an interrupted round cannot resume.
 *
 * The engine keeps the loop; each step is a stage module under ./stages (cohort, plan, secagg, charge, release).
 */
export class RoundEngine {
  constructor(private readonly deps: RoundEngineDeps) {}

  async runFederation(federationId: string, hooks: RunHooks = {}): Promise<RunSummary> {
    const { federations, rounds, connections } = this.deps;
    const federation = await federations.get(federationId);
    if (!federation) throw new RangeError(`federationId: no federation ${federationId}`);
    const settings = FederationSettingsSchema.parse(federation.spec);
    await rounds.failUnfinished(federationId, 'E_RESTARTED: the aggregator stopped during this round');
    let { weights, version, optimizer } = await this.currentModel(federationId, settings);
    let failedInARow = 0;
    let failed = 0;
    while ((await rounds.releasedCount(federationId)) < settings.rounds) {
      hooks.signal?.throwIfAborted();
      const status = await waitWhilePaused(async () => (await federations.get(federationId))?.status, hooks.signal);
      if (status === 'archived') throw new RoundFailure('E_ARCHIVED', 'the federation was archived; no more rounds');
      const pool = await waitForCohortPool(this.deps, federationId, settings, weights.length, {
        signal: hooks.signal,
      });
      if (pool.kind === 'exhausted') return this.exhaust(federationId, pool.reason, failed, weights, version);
      const outcome = await this.runRound(federationId, settings, pool.sites, weights, version, optimizer, hooks);
      logRound(federationId, outcome.report);
      hooks.onRound?.(outcome.report);
      if (outcome.report.state === 'released') {
        weights = outcome.weights!;
        optimizer = outcome.optimizer!;
        version = outcome.report.modelVersion!;
        failedInARow = 0;
        if (isEvaluationDue(settings, version)) await this.evaluate(federationId, settings, weights, version, hooks);
      } else {
        failed += 1;
        failedInARow += 1;
        if (failedInARow >= (hooks.maxConsecutiveFailures ?? 20)) {
          throw new RoundFailure(
            'E_TOO_MANY_FAILURES',
            `${failedInARow} rounds failed in a row: ${outcome.report.reason}`,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await federations.setStatus(federationId, 'completed');
    const released = await rounds.releasedCount(federationId);
    connections.broadcast(connections.connectedSites(federationId), 'federation:done', {
      federationId,
      rounds: released,
    });
    return { released, failed, weights, modelVersion: version };
  }

  /** Terminal: too few sites can pay for another round. Connected agents are told the federation is over. */
  private async exhaust(
    federationId: string,
    reason: { code: string; message: string },
    failed: number,
    weights: Float32Array,
    version: number,
  ): Promise<RunSummary> {
    const { federations, rounds, connections } = this.deps;
    await federations.setStatus(federationId, 'exhausted');
    await federations.setStatusReason(federationId, reason);
    const released = await rounds.releasedCount(federationId);
    appLogger().warn({ event: 'federation.exhausted', federationId, released, ...reason }, reason.message);
    connections.broadcast(connections.connectedSites(federationId), 'federation:done', {
      federationId,
      rounds: released,
    });
    return { released, failed, weights, modelVersion: version };
  }

  /**
   * One private evaluation of model `version` (evaluation-plan.ts): a round of its own through the same stages and
   * the same charge, on a cohort drawn as for training. A failed evaluation is logged and recorded like a failed
   * round; training goes on (the model is not evaluated then; nothing is retried with a second charge).
   */
  private async evaluate(
    federationId: string,
    settings: FederationSettings,
    weights: Float32Array,
    version: number,
    hooks: RunHooks,
  ): Promise<void> {
    const pool = await waitForCohortPool(this.deps, federationId, settings, weights.length, {
      signal: hooks.signal,
      evaluation: true,
    });
    if (pool.kind === 'exhausted') return; // too few sites can pay for it: the version stays unevaluated
    const outcome = await this.runRound(
      federationId,
      settings,
      pool.sites,
      weights,
      version,
      undefined,
      hooks,
      version,
    );
    logRound(federationId, outcome.report);
    hooks.onRound?.(outcome.report);
  }

  private async currentModel(federationId: string, settings: FederationSettings) {
    const latest = await this.deps.models.latestModel(federationId);
    const p = parameterCount(settings.model);
    if (latest?.weights) {
      return {
        weights: bytesToFloat32(latest.weights, p, 'stored model'),
        version: latest.version,
        optimizer: restoreOptimizerState(settings.server, latest.optimizerState, p),
      };
    }
    const seed = settings.initSeed ? new Uint8Array(Buffer.from(settings.initSeed, 'hex')) : undefined;
    const weights = initWeights(settings.model, seed);
    // a binary table: logistic regression from zero, output bias from the public class prior (libs/fedopt)
    initializeTableModel(settings.dataset, settings.model, weights);
    const bytes = float32ToBytes(weights);
    await this.deps.models.insertModel({
      federationId,
      roundId: null,
      version: 0,
      sha256: sha256Hex(bytes),
      sizeBytes: bytes.byteLength,
      weights: bytes,
    });
    return { weights, version: 0, optimizer: restoreOptimizerState(settings.server, undefined, p) };
  }

  /** One round through the stages: cohort -> plan -> SecAgg+ 0-3 -> charge -> unmask -> release. */
  private async runRound(
    federationId: string,
    settings: FederationSettings,
    connected: string[],
    weights: Float32Array,
    version: number,
    optimizer: ServerOptimizerState | undefined,
    hooks: RunHooks,
    /** present: an evaluation round of this model version (stage "evaluate" instead of "release") */
    evaluationOf?: number,
  ): Promise<{ report: RoundReport; weights?: Float32Array; optimizer?: ServerOptimizerState }> {
    const { rounds, connections } = this.deps;
    const clock = stopwatch();
    const kind = evaluationOf === undefined ? 'training' : 'evaluation';
    const { round, roster } = await openRound(this.deps, federationId, settings, connected, kind);
    clock.lap('cohort');
    appLogger().info(
      {
        event: 'round.start',
        federationId,
        round: round.number,
        roundId: round.id,
        cohort: roster.map((m) => m.siteId),
      },
      `round ${round.number}: cohort of ${roster.length}`,
    );
    const ctx: RoundContext = { federationId, settings, round, roster, evaluationOf, ...clock };
    const report: RoundReport = {
      roundId: round.id,
      roundNumber: round.number,
      kind,
      state: 'failed',
      cohort: roster.length,
      survivors: 0,
      drops: [],
      timings: clock.timings,
      profile: clock.profile,
    };
    let session: SecAggSession | undefined;
    try {
      const { plan, accepted, drops: planDrops } = await sendPlan(this.deps, ctx, weights);
      const masked = await collectMaskedInputs(this.deps, ctx, plan, accepted, planDrops, (s) => (session = s));
      const { sum, survivors } = await chargeThenUnmask(this.deps, ctx, plan.privacy.mode, masked);
      if (evaluationOf !== undefined) {
        const evaluated = await recordEvaluation(this.deps, ctx, { plan, sum, survivors });
        Object.assign(report, {
          state: 'released',
          survivors: survivors.length,
          modelVersion: evaluated.modelVersion,
          accuracy: evaluated.accuracy,
          loss: evaluated.loss,
          evaluation: evaluated,
          drops: masked.session.drops,
        });
        return { report };
      }
      const released = await releaseModel(this.deps, ctx, {
        plan,
        sum,
        survivors,
        weights,
        version,
        optimizer: optimizer!,
        evaluate: hooks.evaluate,
      });
      Object.assign(report, {
        state: 'released',
        survivors: survivors.length,
        modelVersion: released.modelVersion,
        accuracy: released.accuracy,
        loss: released.loss,
        updateNorm: released.updateNorm,
        drops: masked.session.drops,
      });
      return { report, weights: released.weights, optimizer: released.optimizer };
    } catch (error) {
      const code = error instanceof RoundFailure || error instanceof SecAggError ? error.code : 'E_INTERNAL';
      // never the SQL of a failed query: the reason is stored and served by the rounds API
      const reason = databaseFailureReason(error) ?? (error instanceof Error ? error.message : String(error));
      report.reason = reason.slice(0, 500);
      report.drops = (session as SecAggSession | undefined)?.drops ?? (error instanceof PlanRefused ? error.drops : []);
      // recording the failure is best effort (the database may be what failed), but never silent
      const unrecorded = (what: string) => (err: unknown) =>
        appLogger().warn({ federationId, roundId: round.id, err }, `could not record the failed round's ${what}`);
      await rounds
        .setState(round.id, 'failed', { failureReason: report.reason, stageTimings: clock.timings })
        .catch(unrecorded('state'));
      const dropped = report.drops.map((d: StageDrop) => d.siteId);
      await rounds.setParticipant(round.id, dropped, { dropped: true }).catch(unrecorded('dropouts'));
      connections.broadcast(
        roster.map((m) => m.siteId),
        'round:abort',
        { roundId: round.id, code: code.slice(0, 64), reason: reason.slice(0, 500) },
      );
      return { report };
    }
  }
}

/** One structured line per round outcome: released (model version, survivors) or failed (code and reason). */
function logRound(federationId: string, report: RoundReport): void {
  const base = {
    federationId,
    round: report.roundNumber,
    roundId: report.roundId,
    kind: report.kind,
    cohort: report.cohort,
  };
  if (report.state === 'released' && report.evaluation) {
    const e = report.evaluation;
    appLogger().info(
      { event: 'round.evaluated', ...base, survivors: report.survivors, modelVersion: report.modelVersion, ...e.std },
      `round ${report.roundNumber}: evaluated model version ${report.modelVersion}: ` +
        (e.accuracy === undefined ? '' : `accuracy ${e.accuracy.toFixed(4)} ± ${e.std.accuracy!.toFixed(4)}, `) +
        `loss ${e.loss.toFixed(4)} ± ${e.std.loss.toFixed(4)} (noise std)`,
    );
    return;
  }
  if (report.state === 'released') {
    appLogger().info(
      { event: 'round.released', ...base, survivors: report.survivors, modelVersion: report.modelVersion },
      `round ${report.roundNumber}: released model version ${report.modelVersion}`,
    );
  } else {
    appLogger().warn(
      { event: 'round.failed', ...base, reason: report.reason, drops: report.drops.length },
      `round ${report.roundNumber}: failed: ${report.reason}`,
    );
  }
}
