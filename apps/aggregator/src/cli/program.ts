import { readFileSync } from 'node:fs';
import { createProgram } from '@concord/cli';
import { type Command } from 'commander';
import { register as registerServe } from '../commands/serve.command.js';
import { register as registerPrivacy } from '../commands/privacy.command.js';
import { register as registerWatermark } from '../commands/watermark.command.js';
import { register as registerSimulate } from '../commands/simulate.command.js';
import { register as registerDemo } from '../commands/demo.command.js';
import { register as registerAudit } from '../commands/audit.command.js';
import { register as registerKeys } from '../commands/keys.command.js';
import { register as registerFederation } from '../commands/federation.command.js';
import { register as registerToken } from '../commands/token.command.js';
import { register as registerModel } from '../commands/model.command.js';
import { register as registerBudgets } from '../commands/budgets.command.js';

export { runProgram } from '@concord/cli';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Builds `concord` with every subcommand; each lives in commands/<name>.command.ts and exports `register`. */
export function buildProgram(): Command {
  const program = createProgram(
    'concord',
    'Concord aggregator and operator tools: federated learning with DP, secure aggregation and an auditable privacy ledger',
    version,
  );
  // `concord --version` only before a subcommand, so `model download --version V` is the subcommand's own flag.
  program.enablePositionalOptions();
  // One line per subcommand group, registered in the order `--help` lists them.
  registerServe(program);
  registerPrivacy(program);
  registerWatermark(program);
  registerSimulate(program);
  registerDemo(program);
  registerAudit(program);
  registerKeys(program);
  registerFederation(program);
  registerToken(program);
  registerModel(program);
  registerBudgets(program);
  return program;
}
