import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '@concord/cli';
import { loadServerConfig } from './load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'concord-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadServerConfig', () => {
  it('has the documented defaults', () => {
    expect(loadServerConfig({ flags: {}, env: {} })).toEqual({
      port: 3000,
      host: '127.0.0.1',
      dataDir: './.concord/data',
      keyDir: './.concord/keys',
      logLevel: 'info',
      metricsAuth: 'none',
      rateLimitPerMinute: 60,
      noAutorun: false,
      agentPreAuthMaxFrameBytes: 65_536,
      agentPreAuthConnectionsPerIp: 16,
      agentPreAuthMessagesPerMinutePerIp: 240,
      agentAuthTimeoutMs: 15_000,
      enrollPerMinutePerIp: 20,
    });
  });

  it('reads CONCORD_METRICS_AUTH and refuses an unknown mode naming the key', () => {
    expect(loadServerConfig({ flags: {}, env: { CONCORD_METRICS_AUTH: 'api-key' } }).metricsAuth).toBe('api-key');
    expect(() => loadServerConfig({ flags: { metricsAuth: 'token' }, env: {} })).toThrow(/metricsAuth/);
  });

  it('takes flags over CONCORD_* over the file', () => {
    const path = file('c.yaml', 'port: 1111\nhost: 0.0.0.0\nkeyDir: /k\n');
    const config = loadServerConfig({
      flags: { port: '3333' },
      env: { CONCORD_PORT: '2222', CONCORD_HOST: '::1' },
      file: path,
    });
    expect(config).toMatchObject({ port: 3333, host: '::1', keyDir: '/k' });
  });

  it('accepts DATABASE_URL, with CONCORD_DATABASE_URL first', () => {
    expect(loadServerConfig({ flags: {}, env: { DATABASE_URL: 'postgres://a/b' } }).databaseUrl).toBe('postgres://a/b');
    expect(
      loadServerConfig({ flags: {}, env: { DATABASE_URL: 'postgres://a/b', CONCORD_DATABASE_URL: 'postgresql://c/d' } })
        .databaseUrl,
    ).toBe('postgresql://c/d');
  });

  it.each([
    [{ flags: { port: '70000' }, env: {} }, /^configuration: port: /],
    [{ flags: { port: 'abc' }, env: {} }, /^configuration: port: /],
    [{ flags: {}, env: { CONCORD_LOG_LEVEL: 'loud' } }, /^configuration: logLevel: /],
    [{ flags: { databaseUrl: 'mysql://x' }, env: {} }, /^configuration: databaseUrl: must be a postgres/],
    [{ flags: { tlsCert: 'a.pem' }, env: {} }, /^configuration: tlsCert: tlsCert and tlsKey must be given together/],
    [{ flags: {}, env: {}, file: join(dir, 'missing.yaml') }, /^configuration: cannot read config file .*ENOENT/],
    [{ flags: {}, env: {}, file: file('bad.yaml', 'bogus: 1') }, /^configuration: unknown key bogus/],
    [{ flags: {}, env: {}, file: file('list.yaml', '- 1') }, /must hold an object/],
    [{ flags: {}, env: {}, file: file('broken.json', '{"port": ') }, /is not valid YAML\/JSON/],
  ])('rejects bad configuration with one line naming the key (%#)', (sources, message) => {
    let caught: unknown;
    try {
      loadServerConfig(sources);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).exitCode).toBe(2);
    expect((caught as CliError).message).toMatch(message);
    expect((caught as CliError).message).not.toContain('\n');
  });
});
