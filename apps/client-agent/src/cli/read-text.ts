import { readFileSync } from 'node:fs';
import { CliError } from '@concord/cli';

/** A small text file named by a flag (a CA bundle, a key), or a CLI error (exit 2) naming the flag and the errno. */
export function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}
