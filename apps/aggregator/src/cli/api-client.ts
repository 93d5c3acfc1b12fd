import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { CliError } from '@concord/cli';

/** Flags every operator command takes (`addConnectionOptions`). */
export interface ConnectionFlags {
  server?: string;
  apiKey?: string;
  json?: boolean;
}

export interface Connection {
  /** origin of the aggregator, without a trailing slash */
  server: string;
  apiKey: string;
}

const ConfigFileSchema = z
  .object({ server: z.string().min(1).optional(), apiKey: z.string().min(1).optional() })
  .strict();

/** `$XDG_CONFIG_HOME/concord/cli.json`, else `~/.config/concord/cli.json`. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'concord', 'cli.json');
}

/**
 * Where the operator commands send requests, and with which key: each of the server URL and the API key comes from
 * its flag, then the environment (CONCORD_SERVER, CONCORD_API_KEY), then the config file `{ "server", "apiKey" }`.
 * A missing or malformed value is a usage error (exit 2) naming every place it was looked for.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
  file = configFilePath(env),
): Connection {
  let config: z.infer<typeof ConfigFileSchema> = {};
  const complete = (flags.server || env.CONCORD_SERVER) && (flags.apiKey || env.CONCORD_API_KEY);
  if (!complete) config = readConfig(file);
  const server = flags.server || env.CONCORD_SERVER || config.server;
  const apiKey = flags.apiKey || env.CONCORD_API_KEY || config.apiKey;
  if (!server) throw new CliError(`no server: give --server URL, set CONCORD_SERVER, or "server" in ${file}`);
  if (!apiKey) throw new CliError(`no API key: give --api-key KEY, set CONCORD_API_KEY, or "apiKey" in ${file}`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(`--server: not a URL: ${server}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`--server: expected http:// or https://, got ${url.protocol}`);
  }
  if (url.username || url.password) throw new CliError('--server: put no credentials in the URL; use --api-key');
  return { server: url.origin, apiKey };
}

function readConfig(file: string): z.infer<typeof ConfigFileSchema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${file}: not valid JSON`);
  }
  const parsed = ConfigFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new CliError(`${file}: expected { "server": URL, "apiKey": KEY } (${parsed.error.issues[0].message})`);
  }
  return parsed.data;
}

/** Adds --server, --api-key and --json to an operator command. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--server <url>', 'aggregator URL (env CONCORD_SERVER, then ~/.config/concord/cli.json)'))
    .addOption(
      new Option('--api-key <key>', 'dashboard API key (env CONCORD_API_KEY, then ~/.config/concord/cli.json)'),
    )
    .option('--json', 'print one JSON document on stdout');
}

export interface Download {
  bytes: Uint8Array;
  filename?: string;
}

/**
 * A small client of the dashboard REST API over fetch. Answers that are not 2xx become a CliError carrying the
 * server's code: a 400 (the input was bad) exits 2, any other refusal (401, 403, 404, 409, 429) exits 1; a server
 * that cannot be reached exits 2 (E_UNREACHABLE).
 */
export class ApiClient {
  constructor(
    readonly connection: Connection,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body === undefined ? undefined : JSON.stringify(body), 'application/json');
  }

  /** POST a raw body (e.g. a YAML spec as `application/yaml`). */
  postText<T>(path: string, text: string, contentType: string): Promise<T> {
    return this.request<T>('POST', path, text, contentType);
  }

  async download(path: string): Promise<Download> {
    const response = await this.send('GET', path);
    if (!response.ok) throw await refusal(response);
    const disposition = response.headers.get('content-disposition') ?? '';
    const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1];
    return { bytes: new Uint8Array(await response.arrayBuffer()), filename };
  }

  private async request<T>(method: string, path: string, body?: string, contentType?: string): Promise<T> {
    const response = await this.send(method, path, body, contentType);
    if (!response.ok) throw await refusal(response);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`${method} ${path}: the server answered ${response.status} without JSON`, 2, 'E_BAD_RESPONSE');
    }
  }

  private async send(method: string, path: string, body?: string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { 'x-api-key': this.connection.apiKey, accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    try {
      return await this.fetchImpl(this.connection.server + path, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(`cannot reach ${this.connection.server} (${why})`, 2, 'E_UNREACHABLE');
    }
  }
}

async function refusal(response: Response): Promise<CliError> {
  let code = `E_HTTP_${response.status}`;
  let message = response.statusText || 'refused';
  try {
    const json = (await response.json()) as { code?: unknown; message?: unknown; issues?: unknown };
    if (typeof json.code === 'string') code = json.code;
    if (typeof json.message === 'string') message = json.message;
    if (Array.isArray(json.issues)) {
      const paths = json.issues
        .slice(0, 5)
        .map((i: { path?: unknown; message?: unknown }) => `${String(i.path)}: ${String(i.message)}`);
      if (paths.length > 0 && !paths.every((p) => message.includes(p))) message += ` [${paths.join('; ')}]`;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new CliError(`${message} (${code}, HTTP ${response.status})`, response.status === 400 ? 2 : 1, code);
}

/** Encodes one path segment (ids and versions come from the command line). */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}
