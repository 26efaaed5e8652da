// `edgenn agent --config device.json [--duration S]`: runs the device agent (devices/agent) until
// SIGINT/SIGTERM (or for S seconds; or until stdin ends when stdin is its only source). The config
// is validated before anything starts: every problem is printed on one line, each named by its key
// path, with exit code 2. Log lines go to stderr; a stdin source answers on stdout.
// The work is devices/agent/agent.ts's startAgent; this file is the CLI surface (and the one place
// that listens to process signals and stdin for it).
import { numberFlag, requiredString, type CommandSpec, type ParsedArgs } from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';
import { startAgent } from '../../../devices/agent/agent.js';
import { loadAgentConfig } from '../../../devices/agent/config.js';
import { Writable } from 'node:stream';

const spec: CommandSpec = {
  name: 'agent',
  summary: 'run the device agent: serve, fine-tune, report over MQTT, take signed updates',
  usage: '--config FILE [--duration S]',
  description:
    'Loads the model from the model store (installing model.path on first boot), serves the configured sources ' +
    '(stdin JSON lines, a tailed file, a CSV batch, a loopback HTTP endpoint or Unix socket), fine-tunes on labelled ' +
    'samples with automatic rollback, and publishes telemetry (offline: kept in the on-disk outbox). ' +
    'The config schema is devices/agent/CONFIG.md. Stops on SIGINT/SIGTERM.',
  positionals: [],
  flags: [
    { name: 'config', kind: 'value', meta: 'FILE', help: 'the device config (JSON)' },
    { name: 'duration', kind: 'value', meta: 'S', help: 'stop after S seconds (tests, demos)' },
  ],
  examples: ['edgenn agent --config /etc/edgenn/device.json'],
};

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const file = resolvePath(io, requiredString(args, 'config', 'FILE'));
  const duration = numberFlag(args, 'duration', { above: 0 });
  const cfg = loadAgentConfig(file);
  const onlyStdin = cfg.sources.length > 0 && cfg.sources.every((s) => s.kind === 'stdin');
  let finish: (why: string) => void = () => undefined;
  const finished = new Promise<string>((resolve) => { finish = resolve; });
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { io.stdout(chunk.toString('utf8')); cb(); } });
  const agent = await startAgent(cfg, {
    log: (line) => io.stderr(`edgenn agent: ${line}\n`),
    stdout: out,
    ...(onlyStdin ? { onStdinEnd: () => finish('end of stdin') } : {}),
  });
  const onSignal = (sig: NodeJS.Signals): void => finish(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = duration !== undefined ? setTimeout(() => finish(`${duration} s elapsed`), duration * 1000) : null;
  const why = await finished;
  if (timer !== null) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  io.stderr(`edgenn agent: stopping (${why})\n`);
  await agent.stop();
  return 0;
}

export const agentCommand: Command = { spec, run };
