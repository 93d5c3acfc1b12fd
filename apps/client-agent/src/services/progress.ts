import cliProgress from 'cli-progress';
import pino from 'pino';
import type { AgentEvent } from '../runtime/context.js';

export type ProgressMode = 'json' | 'bar' | 'lines';

/** `--json`: JSON log lines on stdout; a terminal: a progress bar on stderr; otherwise plain lines on stderr. */
export function progressModeFor(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'bar' : 'lines';
}

/** Turns runtime events into what a person or a machine reads. Events carry no secrets and no raw data. */
export function createProgressReporter(mode: ProgressMode): { onEvent: (event: AgentEvent) => void; stop: () => void } {
  if (mode === 'json') {
    const logger = pino({ base: { component: 'concord-agent' } }, pino.destination({ dest: 1, sync: true }));
    return {
      onEvent: (event) => (event.type === 'error' ? logger.error(event) : logger.info(event)),
      stop: () => logger.flush(),
    };
  }
  if (mode === 'lines') {
    return { onEvent: (event) => process.stderr.write(`${describe(event)}\n`), stop: () => {} };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'rounds {value} | {status}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let released = 0;
  bar.start(0, 0, { status: 'connecting' });
  return {
    onEvent: (event) => {
      if (event.type === 'round-released') released += 1;
      bar.update(released, { status: describe(event) });
    },
    stop: () => bar.stop(),
  };
}

function describe(event: AgentEvent): string {
  switch (event.type) {
    case 'connected':
      return 'connected';
    case 'connect-failed':
      return `cannot connect (${event.message}); retrying with backoff`;
    case 'authenticated':
      return 'authenticated with the pinned aggregator key';
    case 'disconnected':
      return `disconnected (${event.reason}); reconnecting`;
    case 'plan-accepted':
      return `round ${event.roundNumber}: plan accepted, epsilon after it ${event.epsilonAfter.toFixed(3)}`;
    case 'plan-refused':
      return `round ${event.roundNumber}: plan refused (${event.code}): ${event.reason}`;
    case 'trained':
      return `round ${event.roundNumber}: trained locally in ${event.seconds.toFixed(1)} s`;
    case 'update-sent':
      return `round ${event.roundNumber}: masked update sent`;
    case 'round-released':
      return `round ${event.roundNumber}: model version ${event.modelVersion} released`;
    case 'round-evaluated':
      return `round ${event.roundNumber}: model version ${event.modelVersion} evaluated (private evaluation)`;
    case 'round-aborted':
      return `round ${event.roundNumber} aborted (${event.code})`;
    case 'error':
      return `error ${event.code}: ${event.message}`;
    case 'done':
      return `federation finished after ${event.rounds} rounds`;
  }
}
