import { ed25519KeyProblem, x25519KeyProblem } from '@concord/protocol';

export interface StoredSiteKeys {
  id: string;
  federationId: string;
  identityPublicKey: string;
  keyAgreementPublicKey: string;
}

export interface SiteKeyFinding {
  siteId: string;
  federationId: string;
  field: 'identityPublicKey' | 'keyAgreementPublicKey';
  code: string;
}

/**
 * The enrolled sites whose stored keys would be refused today (encoding, point checks, or an X25519 key shared with
 * another site). It only reports: rewriting a key would change what the site signed with, and a refused identity key
 * already cannot authenticate (auth:hello checks it), so the operator re-enrolls or revokes the site. Migration 0007
 * recorded, once, the part of these checks SQL can do (site_key_findings); this one adds full point decoding.
 */
export function findBadSiteKeys(rows: readonly StoredSiteKeys[]): SiteKeyFinding[] {
  const findings: SiteKeyFinding[] = [];
  const agreementOwners = new Map<string, string[]>();
  for (const row of rows) {
    const identity = ed25519KeyProblem(row.identityPublicKey);
    if (identity)
      findings.push({ siteId: row.id, federationId: row.federationId, field: 'identityPublicKey', code: identity });
    const agreement = x25519KeyProblem(row.keyAgreementPublicKey);
    if (agreement) {
      findings.push({
        siteId: row.id,
        federationId: row.federationId,
        field: 'keyAgreementPublicKey',
        code: agreement,
      });
      continue;
    }
    const key = Buffer.from(row.keyAgreementPublicKey, 'base64').toString('hex');
    agreementOwners.set(key, [...(agreementOwners.get(key) ?? []), row.id]);
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const owners of agreementOwners.values()) {
    if (owners.length < 2) continue;
    for (const siteId of owners) {
      findings.push({
        siteId,
        federationId: byId.get(siteId)!.federationId,
        field: 'keyAgreementPublicKey',
        code: 'E_DUPLICATE_KEY',
      });
    }
  }
  return findings;
}
