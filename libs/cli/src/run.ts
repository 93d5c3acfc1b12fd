import { Command, CommanderError, Help, type Option } from 'commander';
import { CliError } from './errors.js';

/**
 * A commander program with the house conventions: `--version`, and parse errors that exit 2 (commander's default
 * is 1, which we keep for negative answers). Add subcommands after calling this so they inherit the settings.
 */
export function createProgram(name: string, description: string, version: string): Command {
  return new Command(name)
    .description(description)
    .version(version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ optionDescription: describeOption });
}

/**
 * Commander prints "(default: ...)" only when an option has a default VALUE. Options whose default is resolved
 * later (flag > environment > config file > default, so the parsed value must stay undefined) carry only a
 * default description: show it too, so `--help` tells the whole truth.
 */
function describeOption(option: Option): string {
  const base = new Help().optionDescription(option);
  if (option.defaultValue !== undefined || option.defaultValueDescription === undefined) return base;
  const extra = `default: ${option.defaultValueDescription}`;
  return base.length > 0 ? `${base} (${extra})` : extra;
}

/** Parses argv and turns every failure into one stderr line and the house exit code (0 ok, 1 negative, 2 bad input). */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    process.exitCode = reportError(program.name(), error);
  }
}

function reportError(name: string, error: unknown): number {
  if (error instanceof CommanderError) {
    // help and version arrive here as "errors" with exit code 0; commander has already printed its message
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof CliError) {
    process.stderr.write(`${name}: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${name}: ${message.split('\n')[0]}\n`);
  return 2;
}
