import { computeEpsilon, type AccountantName, type Phase } from '@concord/dp';
import type { PrivacyLedgerRow } from '../db/schema/privacy-ledger.js';
import type { Site } from '../db/schema/sites.js';
import { phaseOfReceipt } from '../ledger/audit.js';

/**
 * What the ledger says each site spent, by site name: its receipts as the audit reads them (phaseOfReceipt, the one
 * receipt-to-phase rule), composed at `delta` (0 for a site never charged). A history holding a distributed discrete
 * Gaussian phase is composed with RDP (the only accountant that carries it); otherwise with `accountant`.
 */
export function perSiteEpsilonOf(
  entries: readonly Pick<PrivacyLedgerRow, 'siteId' | 'receipt'>[],
  sites: readonly Pick<Site, 'id' | 'name'>[],
  delta: number,
  accountant: AccountantName,
): Record<string, number> {
  const phases = new Map<string, Phase[]>();
  for (const e of entries) {
    const list = phases.get(e.siteId) ?? [];
    list.push(phaseOfReceipt(e.receipt));
    phases.set(e.siteId, list);
  }
  const perSiteEpsilon: Record<string, number> = {};
  for (const s of sites) {
    const history = phases.get(s.id) ?? [];
    const anyDdg = history.some((p) => p.mechanism);
    perSiteEpsilon[s.name] =
      history.length === 0 ? 0 : computeEpsilon(history, delta, { accountant: anyDdg ? 'rdp' : accountant }).epsilon;
  }
  return perSiteEpsilon;
}
