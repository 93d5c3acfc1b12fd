/**
 * The federation's privacy terms a site pins at enrollment, beside the aggregator's key (docs/threat-model.md).
 * The agent refuses every plan whose terms differ (a compromised aggregator cannot switch a DP federation to `none`,
 * change delta, the accountant or the clip norm, or shrink the noise by declaring fewer colluders), and recomputes
 * from them every number that sizes its noise or its charge.
 */
import { z } from 'zod';

/**
 * The distributed noise sizing rule: each site's share has variance (z C 2^s)^2 / (t - c), and the round is accounted
 * with t - c shares (libs/dp distributed-sizing.ts).
 */
export const NOISE_SIZING_RULE = 'threshold-minus-colluders' as const;

const delta = z.number().gt(0).lt(1);
const clipNorm = z.number().finite().gt(0);

export const PrivacyTermsSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  z.object({ mode: z.literal('local'), accountant: z.enum(['rdp', 'prv']), delta, clipNorm }).strict(),
  z
    .object({
      mode: z.literal('distributed'),
      accountant: z.literal('rdp'),
      delta,
      clipNorm,
      /** c: cohort members that may collude with the aggregator (secureAggregation.maxColluders) */
      maxColluders: z.number().int().min(0).max(1000),
      noiseSizing: z.literal(NOISE_SIZING_RULE),
    })
    .strict(),
]);
export type PrivacyTerms = z.infer<typeof PrivacyTermsSchema>;
