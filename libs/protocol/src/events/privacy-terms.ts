/**
 * The federation's privacy terms a site pins at enrollment, beside the aggregator's key (docs/threat-model.md).
 * The agent refuses every plan whose terms differ (a compromised aggregator cannot switch a DP federation to `none`,
 * change delta, the accountant or the clip norm, or shrink the noise by declaring fewer colluders), and recomputes
 * from them every number that sizes its noise or its charge.
 */
import { z } from 'zod';
import { ValidationSplitSchema } from './evaluation.js';

/**
 * The distributed noise sizing rule: each site's share has variance (z C 2^s)^2 / (t - c), and the round is accounted
 * with t - c shares (libs/dp distributed-sizing.ts).
 */
export const NOISE_SIZING_RULE = 'threshold-minus-colluders' as const;

const delta = z.number().gt(0).lt(1);
const clipNorm = z.number().finite().gt(0);
/**
 * The validation split (fraction, seed) of a federation with evaluation: pinned, so the aggregator can never move a
 * record between training and validation (the max rule of libs/dp accountant.ts needs every record on one side for
 * the federation's whole life). Absent: the site keeps no validation split and refuses every evaluation plan.
 */
const validation = ValidationSplitSchema.optional();

export const PrivacyTermsSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none'), validation }).strict(),
  z.object({ mode: z.literal('local'), accountant: z.enum(['rdp', 'prv']), delta, clipNorm, validation }).strict(),
  z
    .object({
      mode: z.literal('distributed'),
      accountant: z.literal('rdp'),
      delta,
      clipNorm,
      /** c: cohort members that may collude with the aggregator (secureAggregation.maxColluders) */
      maxColluders: z.number().int().min(0).max(1000),
      noiseSizing: z.literal(NOISE_SIZING_RULE),
      validation,
    })
    .strict(),
]);
export type PrivacyTerms = z.infer<typeof PrivacyTermsSchema>;
