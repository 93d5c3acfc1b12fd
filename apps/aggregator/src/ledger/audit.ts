/**
 * The auditor's recomputation of a federation's privacy ledger, as a pure function over the entries and the sites'
 * public keys: the chain checks of ledger/verify.ts, then every site's epsilon recomputed from its receipts with
 * @concord/dp (composition over the whole history with the accountant the receipts name, never a sum of epsilons), the cap each receipt declared, and
 * (optionally) a head kept earlier. Used by `concord audit` (file or database) and by the REST budgets view, so the
 * dashboard shows exactly what an auditor recomputes.
 */
import { computeEpsilon, type AccountantName, type Phase } from '@concord/dp';
import { privacyReceiptSchema, type PrivacyReceipt } from '@concord/protocol';
import { verifyLedgerEntries, type LedgerEntryInput, type LedgerFindingKind, type LedgerHead } from './verify.js';

export type AuditFindingKind = LedgerFindingKind | 'cap-exceeded' | 'head' | 'accounting';

export interface AuditFinding {
  /** seq of the entry concerned (for `head`: the last entry present, 0 when none) */
  seq: number;
  kind: AuditFindingKind;
  message: string;
}

export interface SiteAudit {
  site: string;
  /** epsilon (nats) of every charged receipt composed, at `delta` */
  epsilon: number;
  /** the accountant its receipts name (rdp for receipts from before the field) */
  accountant: AccountantName;
  /** the delta of the site's newest declared cap (what its epsilon is accounted at) */
  delta: number;
  /** the epsilon cap of the site's newest receipt */
  cap: number;
  /** cap - epsilon (negative when over the cap) */
  remaining: number;
  /** receipts charged */
  charges: number;
}

export interface AuditReport {
  ok: boolean;
  federationId: string | null;
  entries: number;
  head: LedgerHead;
  findings: AuditFinding[];
  sites: SiteAudit[];
}

/** Relative slack when comparing an epsilon with its cap: both come from the same float accountant. */
const CAP_TOLERANCE = 1e-9;

/**
 * One round's receipt as the accountant's phase. Local mode: DP-SGD, `steps` subsampled Gaussian steps. Distributed
 * mode: the distributed discrete Gaussian (Kairouz, Liu, Steinke 2021) with the receipt's parameters; the receipt
 * carries gamma^-1 (integer units per model unit) and the local noise variance, the accountant gamma and sigma.
 * An evaluation receipt (`use`) keeps its use: the accountant composes it with the training part by the max rule.
 */
export function phaseOfReceipt(receipt: PrivacyReceipt): Phase {
  const base = {
    sampleRate: receipt.sampleRate,
    noiseMultiplier: receipt.noiseMultiplier,
    steps: receipt.steps,
    ...(receipt.use === undefined ? {} : { use: receipt.use }),
  };
  const d = receipt.distributed;
  if (receipt.mode === 'local' || d === undefined) return base;
  return {
    ...base,
    mechanism: {
      kind: 'distributed-discrete-gaussian',
      l2Clip: receipt.clipNorm,
      granularity: 1 / d.granularity,
      dimension: d.dimension,
      roundingBias: d.roundingBeta,
      localSigma: Math.sqrt(d.localNoiseVariance),
      minClients: d.minNoisyClients,
    },
  };
}

/**
 * Audits one federation's chain. `expectHead` (an entry hash kept earlier) must appear in the chain: if it does not,
 * the newest entries were cut off or the chain was rewritten. Never throws on bad entries; every problem is a finding.
 */
export function auditLedger(input: {
  entries: readonly LedgerEntryInput[];
  publicKeys: ReadonlyMap<string, string>;
  expectHead?: string;
}): AuditReport {
  const verification = verifyLedgerEntries(input.entries, input.publicKeys);
  const findings: AuditFinding[] = [...verification.findings];

  // Each site's charges in ledger order, with the cap each receipt declared and the accountant it names.
  const history = new Map<string, Charge[]>();
  for (const entry of input.entries) {
    const parsed = privacyReceiptSchema.safeParse(entry.receipt);
    if (!parsed.success) continue; // already a `receipt` finding
    const charges = history.get(entry.siteId) ?? [];
    charges.push({
      seq: entry.seq,
      phase: phaseOfReceipt(parsed.data),
      cap: parsed.data.cap,
      accountant: parsed.data.accountant ?? 'rdp',
    });
    history.set(entry.siteId, charges);
  }
  const accountants = new Map<string, AccountantName>();
  for (const [siteId, charges] of history) accountants.set(siteId, siteAccountant(siteId, charges, findings));
  for (const [siteId, charges] of history) {
    const over = firstChargeOverCap(charges, accountants.get(siteId)!, findings);
    if (over !== undefined) {
      findings.push({
        seq: charges[over.index].seq,
        kind: 'cap-exceeded',
        message: `site ${siteId}: epsilon ${over.epsilon.toFixed(6)} exceeds its cap ${charges[over.index].cap.epsilon} (delta ${charges[over.index].cap.delta})`,
      });
    }
  }

  const sites: SiteAudit[] = [];
  for (const [site, charges] of history) {
    const cap = charges[charges.length - 1].cap;
    const accountant = accountants.get(site)!;
    const epsilon =
      epsilonOf(
        charges.map((c) => c.phase),
        cap.delta,
        accountant,
        0,
        [],
      ) ?? Number.NaN;
    sites.push({
      site,
      accountant,
      epsilon,
      delta: cap.delta,
      cap: cap.epsilon,
      remaining: cap.epsilon - epsilon,
      charges: charges.length,
    });
  }
  sites.sort((a, b) => a.site.localeCompare(b.site));

  if (input.expectHead !== undefined) {
    const present = input.entries.some((e) => e.entryHash === input.expectHead);
    const emptyMatches = input.entries.length === 0 && input.expectHead === verification.head.hash;
    if (!present && !emptyMatches) {
      findings.push({
        seq: verification.head.seq,
        kind: 'head',
        message: `expected head ${input.expectHead} is not in the chain (newest entry seq ${verification.head.seq}, hash ${verification.head.hash}): entries were cut off or rewritten`,
      });
    }
  }

  findings.sort((a, b) => a.seq - b.seq);
  return {
    ok: findings.length === 0,
    federationId: input.entries[0]?.federationId ?? null,
    entries: verification.entries,
    head: verification.head,
    findings,
    sites,
  };
}

/**
 * The first charge after which the site's composed epsilon (at that receipt's cap delta) exceeds that receipt's cap.
 * Epsilon never decreases as charges are added (composition), so within a run of receipts declaring the same cap
 * the first crossing is found by binary search: O(runs x log n) accountant calls instead of one per charge.
 */
function firstChargeOverCap(
  charges: Charge[],
  accountant: AccountantName,
  findings: AuditFinding[],
): { index: number; epsilon: number } | undefined {
  const over = (i: number) => {
    const epsilon = epsilonOf(
      charges.slice(0, i + 1).map((c) => c.phase),
      charges[i].cap.delta,
      accountant,
      charges[i].seq,
      findings,
    );
    return epsilon !== undefined && epsilon > charges[i].cap.epsilon * (1 + CAP_TOLERANCE) ? epsilon : undefined;
  };
  let start = 0;
  while (start < charges.length) {
    const cap = charges[start].cap;
    let end = start;
    while (
      end + 1 < charges.length &&
      charges[end + 1].cap.epsilon === cap.epsilon &&
      charges[end + 1].cap.delta === cap.delta
    )
      end++;
    if (over(end) !== undefined) {
      let lo = start;
      let hi = end; // over(hi) holds
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (over(mid) !== undefined) hi = mid;
        else lo = mid + 1;
      }
      return { index: lo, epsilon: over(lo)! };
    }
    start = end + 1;
  }
  return undefined;
}

interface Charge {
  seq: number;
  phase: Phase;
  cap: PrivacyReceipt['cap'];
  accountant: AccountantName;
}

/**
 * The accountant that composes a site's history: the one its receipts name (the one the site pinned at enrollment;
 * receipts from before the field are 'rdp'), so the audit and /budgets compute exactly what the site's own ledger
 * does. Receipts that disagree are an `accounting` finding, and RDP (the conservative choice) is used.
 */
function siteAccountant(siteId: string, charges: Charge[], findings: AuditFinding[]): AccountantName {
  const named = new Set(charges.map((c) => c.accountant));
  if (named.size === 1) return charges[0].accountant;
  const odd = charges.find((c) => c.accountant !== charges[0].accountant)!;
  findings.push({
    seq: odd.seq,
    kind: 'accounting',
    message: `site ${siteId}: receipts name different accountants (${[...named].join(', ')}); composed with rdp`,
  });
  return 'rdp';
}

function epsilonOf(
  phases: Phase[],
  delta: number,
  accountant: AccountantName,
  seq: number,
  findings: AuditFinding[],
): number | undefined {
  try {
    return computeEpsilon(phases, delta, { accountant }).epsilon;
  } catch (error) {
    findings.push({ seq, kind: 'accounting', message: `epsilon cannot be computed: ${(error as Error).message}` });
    return undefined;
  }
}
