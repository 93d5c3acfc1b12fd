import { randomBytes } from 'node:crypto';
import type { RosterMember } from '@concord/protocol';
import type { Round, RoundKind } from '../../db/schema/rounds.js';
import type { LedgerRepository } from '../../repositories/ledger.repository.js';
import type { RoundRepository } from '../../repositories/round.repository.js';
import type { SiteRepository } from '../../repositories/site.repository.js';
import type { FederationSettings } from '../settings.js';

/**
 * Stage "cohort": draws up to `maxSites` of the connected sites uniformly (CSPRNG Fisher-Yates), keeps the active
 * ones, pins each member's identity key and last charged receipt (the chain head its next receipt must extend), and
 * persists the round as `open` with that cohort.
 */
export async function openRound(
  deps: {
    sites: Pick<SiteRepository, 'sitesOf'>;
    ledger: Pick<LedgerRepository, 'lastReceipts'>;
    rounds: Pick<RoundRepository, 'open'>;
  },
  federationId: string,
  settings: FederationSettings,
  connected: readonly string[],
  kind: RoundKind = 'training',
): Promise<{ round: Round; roster: RosterMember[] }> {
  const cohortIds = shuffle(connected).slice(0, settings.cohort.maxSites);
  const sites = await deps.sites.sitesOf(federationId, cohortIds);
  const active = sites.filter((s) => s.status === 'active');
  const heads = await deps.ledger.lastReceipts(federationId);
  const roster: RosterMember[] = active.map((s) => ({
    siteId: s.id,
    identityPublicKey: s.identityPublicKey,
    lastReceipt: heads.get(s.id) ?? null,
  }));
  const round = await deps.rounds.open(
    federationId,
    roster.map((m) => m.siteId),
    new Date(Date.now() + settings.timeouts.trainingMs),
    kind,
  );
  return { round, roster };
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomBytes(4).readUInt32LE(0) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
