import { readFileSync } from 'node:fs';
import { readYamlText } from '@concord/fedopt';
import { type z } from 'zod';
import { CliError } from '@concord/cli';
import { type ServerConfig, serverConfigEnv, serverConfigSchema } from './config.schema.js';

export interface ConfigSources {
  /** values from flags; undefined means "not given" */
  flags: Partial<Record<keyof ServerConfig, string | number | undefined>>;
  env: NodeJS.ProcessEnv;
  /** a JSON or YAML file (CONCORD_CONFIG or --config) */
  file?: string;
}

/**
 * Merges flags, then environment, then the optional file, and validates the result with one schema.
 * Any problem becomes one CliError line naming the key (exit code 2), before anything is started.
 */
export function loadServerConfig(sources: ConfigSources): ServerConfig {
  const fromFile = sources.file ? readConfigFile(sources.file) : {};
  const merged: Record<string, unknown> = { ...fromFile };
  for (const key of Object.keys(serverConfigEnv) as (keyof ServerConfig)[]) {
    const envValue = serverConfigEnv[key].map((name) => sources.env[name]).find((v) => v !== undefined && v !== '');
    if (envValue !== undefined) merged[key] = envValue;
    const flagValue = sources.flags[key];
    if (flagValue !== undefined) merged[key] = flagValue;
  }
  const parsed = serverConfigSchema.safeParse(merged);
  if (!parsed.success) throw new CliError(`configuration: ${describeIssue(parsed.error.issues[0])}`);
  return parsed.data;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `configuration: cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let value: unknown;
  try {
    value = readYamlText(text); // YAML is a superset of JSON; the project's one set of YAML options
  } catch (error) {
    throw new CliError(
      `configuration: config file ${path} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`configuration: config file ${path} must hold an object of settings`);
  }
  return value as Record<string, unknown>;
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  const key = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') return `unknown key ${issue.keys.join(', ')}`;
  return `${key}: ${issue.message}`;
}
