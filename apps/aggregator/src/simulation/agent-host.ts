/**
 * Child-process entry of the round-profile bench (round-cpu.ts): hosts the virtual agents (virtual-pool.ts) in a
 * process of their own, so that the aggregator's process CPU time is its own work (the "agents in another
 * process"). Receives the pool's options over IPC (advanced serialization: typed arrays), answers `ready` once every
 * site authenticated or gave up, and stops its pool on `stop` or when the parent goes away.
 */
import { startVirtualAgents, type VirtualAgents, type VirtualAgentsOptions } from './virtual-pool.js';

/** The pool's options as they travel over IPC: the aggregator is up already, its URL and the tokens given as values. */
type HostedOptions = Omit<VirtualAgentsOptions, 'onSiteEvent' | 'start' | 'enroll'> & {
  server: string;
  tokens: string[];
};
export type AgentHostRequest = { type: 'start'; options: HostedOptions } | { type: 'stop' };
export type AgentHostReply = { type: 'ready'; authenticated: number; failed: number; threads: number };

let agents: VirtualAgents | undefined;

async function stop(): Promise<never> {
  await agents?.stop();
  process.exit(0);
}

process.on('message', (m: AgentHostRequest) => {
  if (m.type === 'stop') return void stop();
  if (agents) return;
  const { server, tokens, ...options } = m.options;
  agents = startVirtualAgents({ ...options, start: Promise.resolve({ server, tokens }) });
  void agents.ready.then((ready) =>
    process.send!({ type: 'ready', ...ready, threads: agents!.threads } satisfies AgentHostReply),
  );
});
process.on('disconnect', () => void stop());
