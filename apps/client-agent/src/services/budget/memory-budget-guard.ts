import type { AccountantName } from '@concord/dp';
import type { PrivacyReceipt } from '@concord/protocol';
import {
  checkAgainstCap,
  type BudgetCheck,
  type BudgetGuard,
  type BudgetRecord,
  type ChargePhase,
} from './budget-guard.js';

/**
 * A budget guard that keeps the site's history in memory: for simulations and tests, where the "site" lives as
 * long as the process. It enforces the cap exactly as the file-backed ledger does (checkAgainstCap over the
 * whole history plus the plan).
 */
export class MemoryBudgetGuard implements BudgetGuard {
  readonly history: ChargePhase[] = [];
  readonly receipts: { receipt: PrivacyReceipt; signature: string }[] = [];
  private lastRound = 0;

  constructor(
    readonly cap: { epsilon: number; delta: number },
    readonly accountant: AccountantName = 'rdp',
  ) {}

  lastChargedRound(): number {
    return this.lastRound;
  }

  check(phase: ChargePhase): BudgetCheck {
    return checkAgainstCap(this.history, phase, this.cap, this.accountant);
  }

  async record(entry: BudgetRecord): Promise<void> {
    this.history.push(entry.phase);
    this.lastRound = Math.max(this.lastRound, entry.roundNumber);
    this.receipts.push({ receipt: entry.receipt, signature: entry.signature });
  }
}
