/**
 * The charge accounting of a chaos run, from the aggregator's tables and the sites' own ledger files:
 * - doubled: two server charges for one (site, round);
 * - lost: a released round whose contributing site (a participant not dropped) lacks the server charge or its
 *   own local charge;
 * - local-only: a local charge the server never made (the aggregator died before charging): reported, not a
 *   failure, since it is the safe direction (the site counts more than was spent).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';

export interface ChargeReport {
  releasedRounds: number;
  serverCharges: number;
  localCharges: number;
  doubled: number;
  lost: number;
  localOnly: number;
}

/** The (site, round) pairs a site's own ledger file charged. */
export function localCharges(stateDir: string): string[] {
  const file = join(stateDir, 'ledger.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const entry = JSON.parse(line) as { receipt: { siteId: string; roundId: string } };
      return `${entry.receipt.siteId}/${entry.receipt.roundId}`;
    });
}

export async function checkCharges(
  sql: postgres.Sql,
  federationId: string,
  stateDirs: readonly string[],
): Promise<ChargeReport> {
  const server = await sql<{ site_id: string; round_id: string; n: number }[]>`
    select site_id, round_id, count(*)::int as n from privacy_ledger
    where federation_id = ${federationId} group by site_id, round_id`;
  const contributing = await sql<{ site_id: string; round_id: string }[]>`
    select p.site_id, p.round_id from round_participants p join rounds r on r.id = p.round_id
    where r.federation_id = ${federationId} and r.state = 'released' and not p.dropped`;
  const [{ released }] = await sql<{ released: number }[]>`
    select count(*)::int as released from rounds where federation_id = ${federationId} and state = 'released'`;
  const serverSet = new Set(server.map((r) => `${r.site_id}/${r.round_id}`));
  const local = stateDirs.flatMap(localCharges);
  const localSet = new Set(local);
  const lost = contributing.filter((c) => {
    const key = `${c.site_id}/${c.round_id}`;
    return !serverSet.has(key) || !localSet.has(key);
  }).length;
  return {
    releasedRounds: released,
    serverCharges: server.reduce((n, r) => n + r.n, 0),
    localCharges: local.length,
    doubled: server.filter((r) => r.n > 1).length + (local.length - localSet.size),
    lost,
    localOnly: [...localSet].filter((k) => !serverSet.has(k)).length,
  };
}
