import { computeEpsilon, type AccountantName, type Phase } from '@concord/dp';
import { privacyReceiptSchema, receiptTermsOfPlan, type PrivacyReceipt, type RosterMember } from '@concord/protocol';
import type { Site } from '../../db/schema/sites.js';
import type { SiteRepository } from '../../repositories/site.repository.js';
import type { LedgerRepository } from '../../repositories/ledger.repository.js';
import { phaseOfReceipt } from '../../ledger/audit.js';
import { buildPlan } from '../plan-builder.js';
import type { FederationSettings } from '../settings.js';

/** Same slack as the audit's cap check: both sides come from the same float accountant. */
const CAP_TOLERANCE = 1e-9;

export interface BudgetView {
  /** active sites whose cap covers their charges plus one more round of this federation */
  withBudget: Set<string>;
  /** active sites enrolled in the federation */
  active: number;
}

/**
 * The phase one more round would charge each site, for a cohort of `cohortSize` (distributed mode's noise is sized
 * from the cohort's SecAgg+ threshold), from the same plan builder and receipt terms the round would use.
 */
export function nextRoundPhase(
  settings: FederationSettings,
  cohortSize: number,
  parameterCount: number,
  /** the phase of an evaluation round instead (evaluation-plan.ts) */
  evaluation = false,
): Phase | null {
  if (settings.privacy.mode === 'none') return null;
  const roster: RosterMember[] = Array.from({ length: Math.max(2, cohortSize) }, (_, i) => ({
    siteId: `budget-${i}`,
    identityPublicKey: '',
    lastReceipt: null,
  }));
  const plan = buildPlan({
    settings,
    federationId: 'budget',
    roundId: 'budget',
    roundNumber: 1,
    roster,
    parameterCount,
    modelSha256: '',
    now: new Date(0),
    evaluationOf: evaluation ? 1 : undefined,
  });
  const terms = receiptTermsOfPlan(plan);
  return terms === null ? null : phaseOfReceipt(terms as unknown as PrivacyReceipt);
}

/**
 * Which active sites can still pay for one more round: the site's charged receipts (ledger order, the accountant
 * they name) composed with the next round's phase must stay within the cap the site declared at enrollment.
 * The agents check the same before they train (the site is the authority; this only keeps the engine from
 * drawing cohorts that would fail for lack of budget).
 */
export async function sitesWithBudget(
  deps: { sites: Pick<SiteRepository, 'sitesOf'>; ledger: Pick<LedgerRepository, 'entries'> },
  federationId: string,
  settings: FederationSettings,
  cohortSize: number,
  parameterCount: number,
  evaluation = false,
): Promise<BudgetView> {
  const sites = (await deps.sites.sitesOf(federationId)).filter((s) => s.status === 'active');
  const next = nextRoundPhase(settings, cohortSize, parameterCount, evaluation);
  if (next === null) return { withBudget: new Set(sites.map((s) => s.id)), active: sites.length };
  const history = await chargedHistories(deps.ledger, federationId);
  // Sites charged for the same rounds on the same terms have the same history: one accountant call per distinct
  // (history, accountant, delta), each site's epsilon then checked against its own cap. At cohort 100 this is the
  // difference between ~100 RDP compositions per round and a handful (bench:round-profile).
  const epsilons = new Map<string, number>();
  const withBudget = new Set<string>();
  for (const site of sites) {
    if (canPay(site, history.get(site.id), next, settings, epsilons)) withBudget.add(site.id);
  }
  return { withBudget, active: sites.length };
}

/** A site's charged phases (ledger order), the accountant its receipts name, and a key equal for equal phases. */
type History = { phases: Phase[]; accountant: AccountantName; key: string };

/**
 * Each federation's charged histories, kept per ledger repository and read incrementally. The ledger is append-only
 * (a trigger refuses UPDATE and DELETE) and its appends commit in seq order (one lock per federation), so the entries
 * after the last seq read are all that is new; every round used to re-read and re-parse the whole ledger, O(sites x
 * rounds) per round. (This only steers cohort selection; the audit is what re-checks the whole ledger.)
 */
const historiesByLedger = new WeakMap<object, Map<string, { lastSeq: number; sites: Map<string, History> }>>();

async function chargedHistories(
  ledger: Pick<LedgerRepository, 'entries'>,
  federationId: string,
): Promise<Map<string, History>> {
  let byFederation = historiesByLedger.get(ledger);
  if (!byFederation) historiesByLedger.set(ledger, (byFederation = new Map()));
  let cached = byFederation.get(federationId);
  if (!cached) byFederation.set(federationId, (cached = { lastSeq: 0, sites: new Map() }));
  for (const entry of await ledger.entries(federationId, { afterSeq: cached.lastSeq })) {
    if (entry.seq <= cached.lastSeq) continue; // a concurrent call read it first
    cached.lastSeq = entry.seq;
    const parsed = privacyReceiptSchema.safeParse(entry.receipt);
    if (!parsed.success) continue;
    const h = cached.sites.get(entry.siteId) ?? { phases: [], accountant: parsed.data.accountant ?? 'rdp', key: '' };
    const phase = phaseOfReceipt(parsed.data);
    h.phases.push(phase);
    h.key += JSON.stringify(phase) + ';';
    cached.sites.set(entry.siteId, h);
  }
  return cached.sites;
}

function canPay(
  site: Pick<Site, 'capEpsilon' | 'capDelta'>,
  charged: History | undefined,
  next: Phase,
  settings: FederationSettings,
  /** epsilon by (accountant, delta, history key); NaN where it cannot be computed */
  memo: Map<string, number>,
): boolean {
  const accountant =
    charged?.accountant ?? ('accountant' in settings.privacy ? settings.privacy.accountant : undefined) ?? 'rdp';
  const key = `${accountant}|${site.capDelta}|${charged?.key ?? ''}`;
  let epsilon = memo.get(key);
  if (epsilon === undefined) {
    try {
      epsilon = computeEpsilon([...(charged?.phases ?? []), next], site.capDelta, { accountant }).epsilon;
    } catch {
      epsilon = NaN; // an epsilon that cannot be computed is not a budget that covers the round
    }
    memo.set(key, epsilon);
  }
  return epsilon <= site.capEpsilon * (1 + CAP_TOLERANCE);
}
