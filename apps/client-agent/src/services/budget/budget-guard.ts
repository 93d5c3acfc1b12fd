import { checkBudget, type AccountantName, type Phase } from '@concord/dp';
import type { PrivacyReceipt } from '@concord/protocol';

/** One round's privacy cost: @concord/dp's Phase (subsampled Gaussian, or the distributed discrete Gaussian). */
export type ChargePhase = Phase;

/** What a plan would do to the site's budget: whether it fits its cap, and epsilon before and after it. */
export interface BudgetCheck {
  fits: boolean;
  epsilonBefore: number;
  epsilonAfter: number;
}

/** One charge as a guard records it: the site's signed receipt, its phase and the plan's round number. */
export interface BudgetRecord {
  receipt: PrivacyReceipt;
  signature: string;
  phase: ChargePhase;
  roundNumber: number;
}

/**
 * The site's own budget guard and ledger (one interface; FileBudgetGuard keeps the history in a signed file beside
 * the site's keys, MemoryBudgetGuard in memory for simulations and tests). The runtime calls `check` when a plan
 * arrives (a plan that does not fit is refused with E_CAP_EXCEEDED, whatever the aggregator asks), then `record` once
 * the whole masked-input message is built and validated and BEFORE it leaves the site (so a malformed route never
 * costs budget, a crash never loses a charge, and a charge recorded for a round that later failed stays counted).
 */
export interface BudgetGuard {
  /** The cap in force now ((epsilon, delta) over every round the site ever joins). Put in every receipt. */
  readonly cap: { epsilon: number; delta: number };
  /** How the site composes its history; must be the pinned accountant (plans are refused otherwise). */
  readonly accountant: AccountantName;
  check(phase: ChargePhase): BudgetCheck;
  /** The highest round number charged so far (0 when none): plans at or below it are refused. */
  lastChargedRound(): number;
  /** Durably records a signed receipt (with its phase and round number) before the update is sent. */
  record(entry: BudgetRecord): Promise<void>;
}

/** What the plan decision reads of a guard (it never records). */
export type BudgetView = Pick<BudgetGuard, 'cap' | 'accountant' | 'check' | 'lastChargedRound'>;

/**
 * The one cap rule both guards enforce: the site's WHOLE history composed with the plan by libs/dp checkBudget (RDP
 * vectors summed or PLDs convolved, never epsilons added), at the cap's delta.
 */
export function checkAgainstCap(
  history: readonly ChargePhase[],
  phase: ChargePhase,
  cap: { epsilon: number; delta: number },
  accountant: AccountantName,
): BudgetCheck {
  return checkBudget({ history: [...history], plan: [phase], cap, accountant });
}
