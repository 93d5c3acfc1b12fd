/**
 * `concord privacy audit`'s engine: calibrate and charge epsilon as the ledger would, run the audited federation
 * with m canaries on secret coins, score the canaries and run the one-run analyses of @concord/dp. Pure of I/O
 * except the native calls; the command file does the printing and the report.
 */
import { initWeights } from '@concord/native';
import { analyseAudit, type AuditAnalysis } from '@concord/dp';
import { runBlackBox } from './black-box.js';
import { chargeFor, type AuditOptions, type Charge } from './config.js';
import { auditModel, deriveSeed, drawCoins } from './synthetic.js';
import { runDistributedWhiteBox, runLocalWhiteBox } from './white-box.js';

/** The audit's outcome, with the options it ran under (echoed for the report). */
export interface AuditResult extends Pick<
  AuditOptions,
  'mode' | 'canaries' | 'rounds' | 'steps' | 'sampleRate' | 'records' | 'sites'
> {
  parameters: number;
  removeNoise: boolean;
  charged: Charge;
  analysis: AuditAnalysis;
  /** the rigorous bound ([SNJ23]) exceeds the charged epsilon */
  exceedsCharge: boolean;
  seconds: number;
  scores: number[];
  included: boolean[];
}

export async function runPrivacyAudit(
  o: AuditOptions,
  onRound: (round: number) => void = () => {},
): Promise<AuditResult> {
  const started = performance.now();
  const model = auditModel(o.mode === 'black-box' ? 0 : Math.ceil(o.canaries / 2));
  const charged = chargeFor(o, model.parameters);
  const coins = drawCoins(deriveSeed(o.seed, 'coins'), o.canaries);
  const weights = initWeights(model.spec, deriveSeed(o.seed, 'init'));
  const run = o.mode === 'local' ? runLocalWhiteBox : o.mode === 'distributed' ? runDistributedWhiteBox : runBlackBox;
  const scores = await run(o, model, coins, charged, weights, onRound);
  const analysis = analyseAudit({ scores, included: coins, delta: o.delta, confidence: o.confidence });
  return {
    mode: o.mode,
    canaries: o.canaries,
    rounds: o.rounds,
    steps: o.mode === 'distributed' ? 1 : o.steps,
    sampleRate: o.sampleRate,
    records: o.records,
    sites: o.mode === 'distributed' ? o.sites : 1,
    parameters: model.parameters,
    removeNoise: o.removeNoise === true,
    charged,
    analysis,
    exceedsCharge: analysis.oneRun.epsilon > charged.epsilon,
    seconds: (performance.now() - started) / 1000,
    scores: [...scores],
    included: coins,
  };
}
