import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkBudget, PHASE_USES, type AccountantName, type Phase } from '@concord/dp';
import { parsePrivacyReceipt, verifyReceiptSignature, type PrivacyReceipt } from '@concord/protocol';
import { z } from 'zod';
import {
  checkAgainstCap,
  type BudgetCheck,
  type BudgetGuard,
  type BudgetRecord,
  type ChargePhase,
} from './budget-guard.js';

export const LEDGER_FILE = 'ledger.jsonl';

export class LocalLedgerError extends Error {
  constructor(
    readonly code: 'E_LEDGER_TORN' | 'E_LEDGER_CORRUPT' | 'E_LEDGER_SIGNATURE',
    message: string,
  ) {
    super(message);
    this.name = 'LocalLedgerError';
  }
}

const phaseSchema = z
  .object({
    sampleRate: z.number().gt(0).lte(1),
    noiseMultiplier: z.number().gt(0),
    steps: z.number().int().gt(0),
    mechanism: z
      .object({
        kind: z.literal('distributed-discrete-gaussian'),
        l2Clip: z.number(),
        granularity: z.number(),
        dimension: z.number(),
        roundingBias: z.number(),
        localSigma: z.number(),
        minClients: z.number(),
      })
      .strict()
      .optional(),
    /** an evaluation charge (absent: training); composed with the training part by the max rule (libs/dp) */
    use: z.enum(PHASE_USES).optional(),
  })
  .strict();

const entrySchema = z
  .object({
    receipt: z.unknown(),
    signature: z.string(),
    phase: phaseSchema,
    /** the plan's round number (absent in entries written before it was recorded) */
    roundNumber: z.number().int().min(1).optional(),
    recordedAt: z.string(),
  })
  .strict();

export interface LocalLedgerEntry {
  receipt: PrivacyReceipt;
  signature: string;
  phase: ChargePhase;
  roundNumber?: number;
  recordedAt: string;
}

/**
 * The site's own privacy ledger (JSON lines beside its keys) and the guard the runtime asks before training.
 * It composes the site's WHOLE history with the plan (libs/dp checkBudget: RDP vectors summed or PLDs convolved,
 * never epsilons added), so the site keeps its cap even against an aggregator that asks for more or forgets charges.
 * A charge is appended and fsynced before the masked update leaves the site; a round that then fails stays charged.
 */
export class FileBudgetGuard implements BudgetGuard {
  private readonly entries: LocalLedgerEntry[];

  private constructor(
    private readonly file: string,
    readonly cap: { epsilon: number; delta: number },
    readonly accountant: AccountantName,
    entries: LocalLedgerEntry[],
  ) {
    this.entries = entries;
  }

  /**
   * Opens `<stateDir>/ledger.jsonl` (an absent file is an empty history). Every receipt must carry this site's
   * signature, so an edited file is refused (E_LEDGER_SIGNATURE); a torn last line, from a crash during an append,
   * is reported (E_LEDGER_TORN), never silently dropped: it may be a charge that was sent.
   */
  static open(options: {
    stateDir: string;
    cap: { epsilon: number; delta: number };
    identityPublicKey: string;
    accountant?: AccountantName;
  }): FileBudgetGuard {
    const file = join(options.stateDir, LEDGER_FILE);
    const entries = readLedger(file, options.identityPublicKey);
    return new FileBudgetGuard(file, { ...options.cap }, options.accountant ?? 'rdp', entries);
  }

  get history(): readonly LocalLedgerEntry[] {
    return this.entries;
  }

  /** Epsilon spent so far over the whole history, at the cap's delta. */
  spent(): number {
    if (this.entries.length === 0) return 0;
    return checkBudget({ history: [], plan: this.phases(), cap: this.cap, accountant: this.accountant }).epsilonAfter;
  }

  check(phase: ChargePhase): BudgetCheck {
    return checkAgainstCap(this.phases(), phase, this.cap, this.accountant);
  }

  /** The highest round number charged (0 when none; entries written before round numbers were kept count 0). */
  lastChargedRound(): number {
    return this.entries.reduce((m, e) => Math.max(m, e.roundNumber ?? 0), 0);
  }

  async record(entry: BudgetRecord): Promise<void> {
    const line: LocalLedgerEntry = { ...entry, recordedAt: new Date().toISOString() };
    const created = !existsSync(this.file);
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // A new file's directory entry is durable only once the directory itself is fsynced (POSIX: fsync of the file
    // does not cover its name); without it a crash could lose the whole ledger with its first charge.
    if (created) fsyncDirectory(dirname(this.file));
    this.entries.push(line);
  }

  private phases(): Phase[] {
    return this.entries.map((e) => e.phase as Phase);
  }
}

/** fsync a directory (so entries created in it survive a crash). Exported for tests. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readLedger(file: string, identityPublicKey: string): LocalLedgerEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new LocalLedgerError('E_LEDGER_CORRUPT', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`);
  }
  if (text.length > 0 && !text.endsWith('\n')) {
    const line = text.split('\n').length;
    throw new LocalLedgerError(
      'E_LEDGER_TORN',
      `${file}: line ${line} is incomplete (a crash during an append?); it may be a charge that was sent, so it is ` +
        'not dropped: inspect it, then complete or remove it by hand',
    );
  }
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line, index) => {
      let entry: z.infer<typeof entrySchema>;
      let receipt: PrivacyReceipt;
      try {
        entry = entrySchema.parse(JSON.parse(line));
        receipt = parsePrivacyReceipt(entry.receipt);
      } catch {
        throw new LocalLedgerError('E_LEDGER_CORRUPT', `${file}: line ${index + 1} is not a ledger entry`);
      }
      if (!verifyReceiptSignature(receipt, entry.signature, identityPublicKey)) {
        throw new LocalLedgerError('E_LEDGER_SIGNATURE', `${file}: line ${index + 1} is not signed by this site`);
      }
      return {
        receipt,
        signature: entry.signature,
        phase: entry.phase as ChargePhase,
        ...(entry.roundNumber === undefined ? {} : { roundNumber: entry.roundNumber }),
        recordedAt: entry.recordedAt,
      };
    });
}
