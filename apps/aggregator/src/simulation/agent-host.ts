/**
 * Child-process entry of the round-profile bench (round-cpu.ts): hosts the virtual agents (virtual-pool.ts) in a
 * process of their own, so that the aggregator's process CPU time is its own work (the "agents in another
 * process"). Receives the pool's options over IPC (advanced serialization: typed arrays), answers `ready` once every
 * site authenticated or gave up, and stops its pool on `stop` or when the parent goes away.
 */
import { startVirtualAgents, type VirtualAgents, type VirtualAgentsOptions } from './virtual-pool.js';

export type AgentHostRequest = { type: 'start'; options: Omit<VirtualAgentsOptions, 'onSiteEvent'> } | { type: 'stop' };
export type AgentHostReply = { type: 'ready'; authenticated: number; failed: number; threads: number };

let agents: VirtualAgents | undefined;

async function stop(): Promise<never> {
  await agents?.stop();
  process.exit(0);
}

process.on('message', (m: AgentHostRequest) => {
  if (m.type === 'stop') return void stop();
  if (agents) return;
  agents = startVirtualAgents(m.options);
  void agents.ready.then((ready) =>
    process.send!({ type: 'ready', ...ready, threads: agents!.threads } satisfies AgentHostReply),
  );
});
process.on('disconnect', () => void stop());
