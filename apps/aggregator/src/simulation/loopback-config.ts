import { serverConfigSchema, type ServerConfig } from '../config/config.schema.js';

/**
 * The aggregator's config when every agent runs on this machine (`concord simulate`, the demo, tests): loopback
 * only, an ephemeral port, in-memory data, no autorun (the caller starts the rounds), and the per-address pre-auth
 * limits raised, since every simulated site connects and enrolls from the one loopback address at once.
 */
export function loopbackServerConfig(keyDir: string): ServerConfig {
  return serverConfigSchema.parse({
    port: 0,
    host: '127.0.0.1',
    keyDir,
    dataDir: 'memory',
    logLevel: 'silent',
    noAutorun: true,
    agentPreAuthConnectionsPerIp: 100_000,
    agentPreAuthMessagesPerMinutePerIp: 10_000_000,
    enrollPerMinutePerIp: 1_000_000,
  });
}
