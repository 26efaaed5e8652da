// `edgenn broker [--host 127.0.0.1] [--port 1883] [--duration S]`: an in-process MQTT 3.1.1 broker
// (devices/telemetry/embedded-broker.ts, npm aedes) for a laptop, a demo or a small lab, until
// SIGINT/SIGTERM (or S seconds). In memory only, no TLS, no authentication: loopback by default;
// a production fleet uses mosquitto with the ACL of docs/mosquitto-acl.md.
import { numberFlag, stringFlag, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CliIo, Command } from '../command.js';
import { startEmbeddedBroker } from '../../../devices/telemetry/embedded-broker.js';

const spec: CommandSpec = {
  name: 'broker',
  summary: 'run a small in-process MQTT broker (no install needed) until Ctrl-C',
  usage: '[--host HOST] [--port PORT] [--duration S]',
  description:
    'Speaks MQTT 3.1.1 (agents fall back to it automatically), keeps everything in memory, has no TLS and no ' +
    'authentication: for a first try or a bench. Prints the URL to give agents (broker.url) and fleet watch (--broker).',
  positionals: [],
  flags: [
    { name: 'host', kind: 'value', meta: 'HOST', help: 'address to listen on (default 127.0.0.1)' },
    { name: 'port', kind: 'value', meta: 'PORT', help: 'TCP port (default 1883; 0 picks a free one)' },
    { name: 'duration', kind: 'value', meta: 'S', help: 'stop after S seconds (tests, demos)' },
  ],
  examples: ['edgenn broker', 'edgenn broker --port 1884'],
};

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const host = stringFlag(args, 'host') ?? '127.0.0.1';
  const port = numberFlag(args, 'port', { integer: true, min: 0, max: 65535 }) ?? 1883;
  const duration = numberFlag(args, 'duration', { above: 0 });
  const b = await startEmbeddedBroker({ host, port });
  io.stdout(`edgenn broker: listening on ${b.url} (MQTT 3.1.1, in memory, no auth); Ctrl-C stops\n`);
  let finish: (why: string) => void = () => undefined;
  const finished = new Promise<string>((resolve) => { finish = resolve; });
  const onSignal = (sig: NodeJS.Signals): void => finish(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = duration !== undefined ? setTimeout(() => finish(`${duration} s elapsed`), duration * 1000) : null;
  const why = await finished;
  if (timer !== null) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await b.close();
  io.stderr(`edgenn broker: stopped (${why})\n`);
  return 0;
}

export const brokerCommand: Command = { spec, run };
