/**
 * The real processes of a chaos run: `concord serve` on a fixed loopback port (so agents reconnect to the same
 * address after a restart) and `concord-agent run` per site, each killable with SIGKILL and restartable.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CONCORD_BIN = fileURLToPath(new URL('../../apps/aggregator/bin/concord.js', import.meta.url));
export const AGENT_BIN = fileURLToPath(new URL('../../apps/client-agent/bin/concord-agent.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs a bin to completion (bounded by `timeoutMs`). */
export function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A long-running bin that can be SIGKILLed and started again with the same arguments. */
export class Restartable {
  private child: ChildProcess | undefined;
  private killing = false;
  log = '';
  /** exits nobody asked for: when, the exit code, and the last error code the process printed */
  readonly unexpectedExits: { at: number; code: number | null; error?: string }[] = [];

  constructor(
    readonly name: string,
    private readonly bin: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv = {},
    /**
     * Restart the process 2 s after an exit nobody asked for, as a service manager would (systemd Restart=always);
     * every such exit is recorded in `unexpectedExits`. An agent stops by itself on purpose in some cases
     * (E_TOO_MANY_ABORTS after R aborted rounds in a row: docs/threat-model.md "The graph seed").
     */
    private readonly supervise = false,
  ) {}

  /** Starts it; resolves when a stdout/stderr line matches `ready` (or at once without one). */
  start(ready?: RegExp, timeoutMs = 120_000): Promise<void> {
    const child = spawn(process.execPath, [this.bin, ...this.args], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const append = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-200_000);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    child.once('exit', (code) => {
      if (this.killing || this.child !== child) return;
      const error = this.log
        .slice(-1000)
        .match(/E_[A-Z_]{3,}/g)
        ?.at(-1);
      this.unexpectedExits.push({ at: Date.now(), code, ...(error ? { error } : {}) });
      if (this.supervise) setTimeout(() => this.child === child && void this.start().catch(() => {}), 2000).unref();
    });
    if (!ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready in ${timeoutMs} ms`)), timeoutMs);
      const check = (chunk: Buffer) => {
        if (ready.test(chunk.toString())) {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before it was ready:\n${this.log.slice(-2000)}`));
      });
    });
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    this.killing = true;
    child.kill('SIGKILL');
    await gone;
    this.killing = false;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
}
