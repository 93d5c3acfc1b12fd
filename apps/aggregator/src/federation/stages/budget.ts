import { computeEpsilon, type AccountantName, type Phase } from '@concord/dp';
import { privacyReceiptSchema, receiptTermsOf, type PrivacyReceipt, type RosterMember } from '@concord/protocol';
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
export function nextRoundPhase(settings: FederationSettings, cohortSize: number, parameterCount: number): Phase | null {
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
  });
  const terms = receiptTermsOf(plan.privacy);
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
): Promise<BudgetView> {
  const sites = (await deps.sites.sitesOf(federationId)).filter((s) => s.status === 'active');
  const next = nextRoundPhase(settings, cohortSize, parameterCount);
  if (next === null) return { withBudget: new Set(sites.map((s) => s.id)), active: sites.length };
  const history = new Map<string, { phases: Phase[]; accountant: AccountantName }>();
  for (const entry of await deps.ledger.entries(federationId)) {
    const parsed = privacyReceiptSchema.safeParse(entry.receipt);
    if (!parsed.success) continue;
    const h = history.get(entry.siteId) ?? { phases: [], accountant: parsed.data.accountant ?? 'rdp' };
    h.phases.push(phaseOfReceipt(parsed.data));
    history.set(entry.siteId, h);
  }
  const withBudget = new Set<string>();
  for (const site of sites) {
    if (canPay(site, history.get(site.id), next, settings)) withBudget.add(site.id);
  }
  return { withBudget, active: sites.length };
}

function canPay(
  site: Pick<Site, 'capEpsilon' | 'capDelta'>,
  charged: { phases: Phase[]; accountant: AccountantName } | undefined,
  next: Phase,
  settings: FederationSettings,
): boolean {
  const accountant =
    charged?.accountant ?? ('accountant' in settings.privacy ? settings.privacy.accountant : undefined) ?? 'rdp';
  try {
    const epsilon = computeEpsilon([...(charged?.phases ?? []), next], site.capDelta, { accountant }).epsilon;
    return epsilon <= site.capEpsilon * (1 + CAP_TOLERANCE);
  } catch {
    return false; // an epsilon that cannot be computed is not a budget that covers the round
  }
}
