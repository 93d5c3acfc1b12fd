import { randomBytes } from 'node:crypto';
import {
  MaskedUpdateReplySchema,
  secAggConfigOf,
  signReceipt,
  type MaskedUpdateReply,
  type PrivacyReceipt,
  type TrainingPlan,
} from '@concord/protocol';
import { SecAggClient, SecAggError, SeedFlipClient } from '@concord/secagg';
import type { AgentContext } from './context.js';
import type { PlanDecision } from './plan-decision.js';
import { splitValidation } from '../data/validation-split.js';
import type { TrainingData } from './context.js';
import { evaluateAndEncode } from './evaluate-and-encode.js';
import { derivedSeed, trainAndEncode } from './train-and-encode.js';

const EMPTY_DATA: TrainingData = {
  features: new Float32Array(0),
  labels: new Float32Array(0),
  count: 0,
  featureCount: 0,
};

/**
 * One round on the site, after the plan was verified and accepted (plan-decision.ts): training starts at once (in
 * the native addon's worker threads) with exactly the decision's execution, the graph seed is drawn with the cohort
 * by commit-and-reveal (the aggregator only relays it), SecAgg+ stages are answered as the aggregator asks, and once
 * the whole masked-input reply is built and validated, the signed receipt is recorded in the site's own ledger,
 * before the reply leaves the site.
 */
export class RoundSession {
  readonly seedFlip: SeedFlipClient;
  private secagg?: SecAggClient;
  private readonly training: Promise<{ encoded: Uint32Array }>;
  private readonly startedAt = Date.now();

  constructor(
    readonly plan: TrainingPlan,
    weights: Float32Array,
    private readonly context: AgentContext,
    private readonly decision: PlanDecision,
  ) {
    this.seedFlip = new SeedFlipClient({
      ...secAggConfigOf(plan),
      clientId: context.identity.siteId,
      identitySecretKey: context.identity.identitySeed,
      randomBytes: (n) => new Uint8Array(randomBytes(n)),
    });
    // the pinned split: training never sees a validation record, evaluation sees only them (data/validation-split.ts)
    const split = splitValidation(context.data, context.identity, context.identity.terms.validation);
    const x = decision.execution;
    const seed = context.reproducibleSeed && derivedSeed(context.reproducibleSeed, `round ${plan.roundNumber}`);
    this.training = (
      x.mode === 'evaluation'
        ? evaluateAndEncode(plan, x, weights, split.validation ?? EMPTY_DATA, context.threads, seed)
        : trainAndEncode(plan, x, weights, split.training, context.threads, context.device, seed)
    ).then((r) => {
      context.onEvent?.({
        type: 'trained',
        roundNumber: plan.roundNumber,
        seconds: (Date.now() - this.startedAt) / 1000,
      });
      return r;
    });
    this.training.catch(() => {}); // surfaced when the masked input is asked for
  }

  /** The SecAgg+ client, once the seed flip fixed the graph (stage 0 on). */
  get client(): SecAggClient {
    if (!this.secagg) throw new SecAggError('E_WRONG_STAGE', 'the graph seed is not drawn yet');
    return this.secagg;
  }

  /** Stage 0: checks every seed reveal against its commitment, derives the graph seed, then advertises keys. */
  advertise(reveals: unknown) {
    const { graphSeed, seedCommitmentsHash } = this.seedFlip.finish(reveals);
    this.secagg = new SecAggClient({
      config: { ...secAggConfigOf(this.plan), graphSeed, seedCommitmentsHash },
      clientId: this.context.identity.siteId,
      identitySecretKey: this.context.identity.identitySeed,
      randomBytes: (n) => new Uint8Array(randomBytes(n)),
    });
    return this.secagg.advertiseKeys();
  }

  /**
   * Stage 2: wait for training, mask (which validates the share route), build and validate the whole reply with
   * its signed receipt, record the charge locally, then hand the reply over. A malformed route, a masking failure
   * or an invalid reply throws before anything is charged (the round is then over for this site).
   */
  async maskedUpdate(route: unknown): Promise<MaskedUpdateReply> {
    const { encoded } = await this.training;
    const p = this.context.dropoutProbability ?? 0;
    if (p > 0 && randomBytes(4).readUInt32LE(0) / 2 ** 32 < p) {
      this.abort();
      throw Object.assign(new Error('simulated dropout before masking'), { code: 'E_SIMULATED_DROPOUT' });
    }
    let masked;
    try {
      masked = await this.client.maskedInput(route, encoded);
    } finally {
      encoded.fill(0);
    }
    const { receiptTerms, phase } = this.decision;
    let receipt: PrivacyReceipt | undefined;
    let receiptSignature: string | undefined;
    if (receiptTerms && phase) {
      const me = this.plan.roster.find((m) => m.siteId === this.context.identity.siteId)!;
      receipt = {
        version: 1,
        federationId: this.plan.federationId,
        siteId: this.context.identity.siteId,
        roundId: this.plan.roundId,
        sequence: (me.lastReceipt?.sequence ?? 0) + 1,
        previousReceiptHash: me.lastReceipt?.receiptHash ?? null,
        ...receiptTerms,
        cap: { ...this.context.budget.cap },
      };
      receiptSignature = signReceipt(receipt, this.context.identity.identitySeed);
    }
    const reply = { ok: true as const, masked, ...(receipt ? { receipt, receiptSignature } : {}) };
    const valid = MaskedUpdateReplySchema.safeParse(reply);
    if (!valid.success) {
      this.abort();
      throw Object.assign(new Error('the masked-input reply is malformed'), { code: 'E_BAD_MESSAGE' });
    }
    if (receipt && receiptSignature && phase) {
      await this.context.budget.record({
        receipt,
        signature: receiptSignature,
        phase,
        roundNumber: this.plan.roundNumber,
      });
    }
    this.context.onEvent?.({ type: 'update-sent', roundNumber: this.plan.roundNumber });
    return reply;
  }

  abort(): void {
    this.seedFlip.abort();
    this.secagg?.abort();
  }
}
