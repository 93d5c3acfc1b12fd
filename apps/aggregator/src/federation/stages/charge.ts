import type { StageOutcome } from '@concord/secagg';
import type { Db } from '../../db/client.js';
import type { LedgerRepository } from '../../repositories/ledger.repository.js';
import type { RoundRepository } from '../../repositories/round.repository.js';
import type { SecAggSession } from '../secagg-session.js';
import type { RoundContext } from './round-context.js';
import { unmask, type CheckedReceipt } from './secagg.js';

export interface ChargeDeps {
  db: Pick<Db, 'transaction'>;
  ledger: Pick<LedgerRepository, 'appendMany'>;
  rounds: Pick<RoundRepository, 'setState'>;
}

/**
 * Stage "charge": appends every survivor's signed receipt to the privacy ledger (its input is in the sum; one batched
 * append, each charge checked as a single append would be) and moves the round to `unmasking`, in ONE transaction.
 * Mode `none` charges nothing but still records the state change. A refused charge (LedgerError) or a database error rolls the whole transaction back and propagates.
 */
export async function chargeSurvivors(
  deps: ChargeDeps,
  ctx: RoundContext,
  privacyMode: string,
  survivors: readonly string[],
  receipts: ReadonlyMap<string, CheckedReceipt>,
): Promise<void> {
  const { federationId, round, settings } = ctx;
  await deps.db.transaction(async (tx) => {
    if (privacyMode !== 'none') {
      const charges = survivors.map((siteId) => ({
        federationId,
        siteId,
        roundId: round.id,
        ...receipts.get(siteId)!,
      }));
      await deps.ledger.appendMany(tx, charges);
    }
    await deps.rounds.setState(
      round.id,
      'unmasking',
      { unmaskingDeadlineAt: new Date(Date.now() + 2 * settings.timeouts.stageMs) },
      tx,
    );
  });
  ctx.lap('charge');
}

/**
 * The release gate: the charge commits, and only then is any unmask share requested (the sum exists only after the
 * epsilon it spends is on the ledger). A failed charge throws before a single share request leaves.
 */
export async function chargeThenUnmask(
  deps: ChargeDeps,
  ctx: RoundContext,
  privacyMode: string,
  masked: {
    session: Pick<SecAggSession, 'exchange' | 'close'>;
    outcome: StageOutcome;
    survivors: readonly string[];
    receipts: ReadonlyMap<string, CheckedReceipt>;
  },
): Promise<{ sum: Uint32Array; survivors: string[] }> {
  await chargeSurvivors(deps, ctx, privacyMode, masked.survivors, masked.receipts);
  const unmasked = await unmask(masked.session, masked.outcome, ctx.settings.timeouts.stageMs, ctx.lap);
  return unmasked;
}
