import {
  canonicalJsonBytes,
  privacyReceiptSchema,
  receiptTermsOfPlan,
  verifyReceiptWithProof,
  type PrivacyReceipt,
  type ReceiptProof,
  type TrainingPlan,
} from '@concord/protocol';

/**
 * Checks a site's receipt for this round BEFORE its masked input is admitted to the sum: every input in the sum
 * must be chargeable. Returns a coded refusal, or the parsed receipt with the proof that its signature verified.
 * (The ledger re-checks inside the charge transaction, all but the signature when the proof covers it and the key
 * it reads under its lock; this early check keeps an uncharged input out of the sum.)
 */
export function checkRoundReceipt(o: {
  plan: TrainingPlan;
  siteId: string;
  receipt: unknown;
  signature: unknown;
  identityPublicKey: string;
}):
  | { ok: true; receipt: PrivacyReceipt; signature: string; proof: ReceiptProof }
  | { ok: false; code: string; reason: string } {
  const { plan, siteId } = o;
  const terms = receiptTermsOfPlan(plan);
  if (terms === null) {
    return o.receipt === undefined
      ? { ok: false, code: 'E_NO_RECEIPT', reason: 'mode none has no receipt' }
      : { ok: false, code: 'E_BAD_MESSAGE', reason: 'a receipt was sent in mode none' };
  }
  const parsed = privacyReceiptSchema.safeParse(o.receipt);
  if (!parsed.success || typeof o.signature !== 'string') {
    return { ok: false, code: 'E_RECEIPT_INVALID', reason: 'missing or malformed privacy receipt' };
  }
  const r = parsed.data;
  if (r.federationId !== plan.federationId || r.siteId !== siteId || r.roundId !== plan.roundId) {
    return { ok: false, code: 'E_WRONG_ROUND', reason: 'receipt names another federation, site or round' };
  }
  const {
    cap: _cap,
    federationId: _f,
    siteId: _s,
    roundId: _r,
    version: _v,
    sequence: _q,
    previousReceiptHash: _p,
    ...signedTerms
  } = r;
  if (!sameJson(signedTerms, terms)) {
    return { ok: false, code: 'E_RECEIPT_TERMS', reason: 'receipt terms differ from the signed plan' };
  }
  const last = plan.roster.find((m) => m.siteId === siteId)?.lastReceipt ?? null;
  if (r.sequence !== (last?.sequence ?? 0) + 1 || r.previousReceiptHash !== (last?.receiptHash ?? null)) {
    return { ok: false, code: 'E_REPLAY', reason: 'receipt does not extend the site’s charged chain' };
  }
  let proof: ReceiptProof | undefined;
  try {
    proof = verifyReceiptWithProof(r, o.signature, o.identityPublicKey);
  } catch {
    proof = undefined;
  }
  if (!proof) return { ok: false, code: 'E_BAD_SIGNATURE', reason: 'receipt signature does not verify' };
  // the proof goes with the receipt to the ledger, which then need not verify the same signature again
  return { ok: true, receipt: r, signature: o.signature, proof };
}

function sameJson(a: unknown, b: unknown): boolean {
  return Buffer.from(canonicalJsonBytes(a)).equals(Buffer.from(canonicalJsonBytes(b)));
}
