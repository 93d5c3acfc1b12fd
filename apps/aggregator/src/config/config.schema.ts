import { z } from 'zod';

/** Every setting of `concord serve`, validated once at start. Flags win over CONCORD_* variables, which win over the file. */
export const serverConfigSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(3000),
    host: z.string().min(1).default('127.0.0.1'),
    dataDir: z.string().min(1).default('./.concord/data'),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    keyDir: z.string().min(1).default('./.concord/keys'),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * GET /metrics: 'none' (open, as Prometheus expects by default: bind the port privately) or 'api-key' (an
     * admin, operator or auditor key, e.g. Prometheus `authorization: { credentials: <key> }`).
     */
    metricsAuth: z.enum(['none', 'api-key']).default('none'),
    /** requests per minute per client on the token and key endpoints (rate-limited ones) */
    rateLimitPerMinute: z.coerce.number().int().min(1).max(1_000_000).default(60),
    /**
     * Do not resume active federations' round loops at boot, and do not report stopped loops in /health (tests and
     * tools that drive rounds themselves).
     */
    noAutorun: z
      .union([z.boolean(), z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true')])
      .default(false),
    /**
     * Agents' socket.io endpoint before authentication (docs/threat-model.md): the largest frame a connection may send
     * until it has proved its site key (raised to the protocol's maxFrameBytes after auth:prove), how many such
     * connections one IP may hold, how many messages per minute they may send together, and how long a connection
     * may stay unauthenticated.
     */
    agentPreAuthMaxFrameBytes: z.coerce.number().int().min(1024).max(16_777_216).default(65_536),
    agentPreAuthConnectionsPerIp: z.coerce.number().int().min(1).max(100_000).default(16),
    agentPreAuthMessagesPerMinutePerIp: z.coerce.number().int().min(2).max(10_000_000).default(240),
    agentAuthTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(15_000),
    /** POST /api/enroll attempts per minute per client IP (each one a token lookup) */
    enrollPerMinutePerIp: z.coerce.number().int().min(1).max(1_000_000).default(20),
  })
  .strict()
  .refine((c) => Boolean(c.tlsCert) === Boolean(c.tlsKey), {
    message: 'tlsCert and tlsKey must be given together',
    path: ['tlsCert'],
  });

export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Environment variable for each key; DATABASE_URL is honoured too, as the usual name for it. */
export const serverConfigEnv: Record<keyof ServerConfig, readonly string[]> = {
  port: ['CONCORD_PORT'],
  host: ['CONCORD_HOST'],
  dataDir: ['CONCORD_DATA_DIR'],
  databaseUrl: ['CONCORD_DATABASE_URL', 'DATABASE_URL'],
  keyDir: ['CONCORD_KEY_DIR'],
  tlsCert: ['CONCORD_TLS_CERT'],
  tlsKey: ['CONCORD_TLS_KEY'],
  logLevel: ['CONCORD_LOG_LEVEL'],
  metricsAuth: ['CONCORD_METRICS_AUTH'],
  rateLimitPerMinute: ['CONCORD_RATE_LIMIT_PER_MINUTE'],
  noAutorun: ['CONCORD_NO_AUTORUN'],
  agentPreAuthMaxFrameBytes: ['CONCORD_AGENT_PRE_AUTH_MAX_FRAME_BYTES'],
  agentPreAuthConnectionsPerIp: ['CONCORD_AGENT_PRE_AUTH_CONNECTIONS_PER_IP'],
  agentPreAuthMessagesPerMinutePerIp: ['CONCORD_AGENT_PRE_AUTH_MESSAGES_PER_MINUTE_PER_IP'],
  agentAuthTimeoutMs: ['CONCORD_AGENT_AUTH_TIMEOUT_MS'],
  enrollPerMinutePerIp: ['CONCORD_ENROLL_PER_MINUTE_PER_IP'],
};
