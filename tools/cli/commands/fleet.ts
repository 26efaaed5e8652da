// `edgenn fleet watch --broker URL [--fleet NAME] [--json] [--duration S]`: the fleet side, live.
// Subscribes to edgenn/<fleet>/+/# (every fleet when --fleet is absent), merges records with
// devices/telemetry/fleet-merge.ts (history de-duplicated by (device, seq), status ordered by its
// connection), and either redraws a table of devices once a second (online/offline, model
// version, p95 latency, last loss, outbox depth, last seen) or, with --json, writes every
// accepted record as one JSON line: {"fleet","device","kind","record":{...},"view":{...}} where
// view is the device's merged row after that record.
// It is not a dashboard and keeps nothing on disk.
import { readFileSync } from 'node:fs';
import { numberFlag, boolFlag, requiredString, stringFlag, usageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';
import { EdgennError } from '../../../runtime/errors.js';
import { FleetMerge, type DeviceView } from '../../../devices/telemetry/fleet-merge.js';
import { createMqttTransport } from '../../../devices/telemetry/mqtt-transport.js';
import { redactUrl } from '../../../devices/telemetry/redact.js';
import { TOPIC_ROOT, checkTopicName, fleetFilter, parseTopic } from '../../../devices/telemetry/topics.js';

const spec: CommandSpec = {
  name: 'fleet',
  summary: 'watch a fleet of devices live (table, or JSON lines with --json)',
  usage: 'watch --broker URL [--fleet NAME] [--json] [--duration S]',
  description:
    'Subscribes to the devices\' telemetry topics and shows one row per device: online/offline, model version, ' +
    'p95 latency, last fine-tuning loss, outbox depth (records waiting on the device) and when it was last heard. ' +
    'Records are de-duplicated by (device, seq). --json writes every accepted record with the device\'s merged row.',
  positionals: [{ name: 'action', help: 'watch', required: true }],
  flags: [
    { name: 'broker', kind: 'value', meta: 'URL', help: 'mqtt://host:port or mqtts://host:port' },
    { name: 'fleet', kind: 'value', meta: 'NAME', help: 'one fleet (default: every fleet on the broker)' },
    { name: 'json', kind: 'boolean', help: 'stream merged records as JSON lines instead of the table' },
    { name: 'duration', kind: 'value', meta: 'S', help: 'stop after S seconds (default: until Ctrl-C)' },
    { name: 'username', kind: 'value', meta: 'USER', help: 'broker user name' },
    { name: 'password-file', kind: 'value', meta: 'FILE', help: 'file whose first line is the broker password' },
    { name: 'ca', kind: 'value', meta: 'FILE', help: 'CA certificate (PEM) for mqtts://' },
  ],
  examples: ['edgenn fleet watch --broker mqtt://127.0.0.1:1883 --fleet lab', 'edgenn fleet watch --broker mqtt://127.0.0.1:1883 --json --duration 10'],
};

function ago(now: number, t: number): string {
  if (t === 0) return '-';
  const s = Math.max(0, Math.round((now - t) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** The device table (exported for tests): one header line and one line per device. */
export function renderFleetTable(rows: ReadonlyArray<{ fleet: string; view: DeviceView }>, now: number): string {
  const head = ['FLEET', 'DEVICE', 'STATE', 'MODEL', 'P95 ms', 'LOSS', 'QUEUE', 'LAST SEEN'];
  const body = rows.map(({ fleet, view: v }) => [
    fleet, v.device, v.online === null ? '?' : v.online ? 'online' : 'offline', v.modelVersion ?? '-',
    v.p95Us === null ? '-' : (v.p95Us / 1000).toFixed(3), v.lastLoss === null ? '-' : v.lastLoss.toPrecision(4),
    v.outboxDepth === null ? '-' : String(v.outboxDepth), ago(now, v.lastSeen),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n') + '\n';
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const action = args.positionals[0];
  if (action !== 'watch') throw usageError(`unknown fleet action ${JSON.stringify(action)}`, 'watch');
  const url = requiredString(args, 'broker', 'URL');
  try { new URL(url); } catch { throw usageError('--broker is not a URL', 'mqtt://host:port'); }
  const fleet = stringFlag(args, 'fleet');
  if (fleet !== undefined) checkTopicName('fleet', fleet);
  const json = boolFlag(args, 'json');
  const duration = numberFlag(args, 'duration', { above: 0 });
  const username = stringFlag(args, 'username');
  const pwFile = stringFlag(args, 'password-file');
  const caFile = stringFlag(args, 'ca');
  let password: string | undefined;
  if (pwFile !== undefined) {
    try { password = readFileSync(resolvePath(io, pwFile), 'utf8').split(/\r?\n/)[0]!; } catch (e) {
      throw new EdgennError('IO', `cannot read --password-file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file: pwFile });
    }
  }
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try { ca = readFileSync(resolvePath(io, caFile)); } catch (e) {
      throw new EdgennError('IO', `cannot read --ca: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file: caFile });
    }
  }

  const merges = new Map<string, FleetMerge>();
  const mergeOf = (f: string): FleetMerge => {
    let m = merges.get(f);
    if (m === undefined) {
      m = new FleetMerge(f);
      m.onRecord((r) => {
        dirty = true;
        if (!json) return;
        const view = m!.devices().find((d) => d.device === r.device) ?? null;
        io.stdout(JSON.stringify({ fleet: f, device: r.device, kind: r.kind, record: r.record, view }) + '\n');
      });
      merges.set(f, m);
    }
    return m;
  };
  let dirty = true;
  const t = createMqttTransport({
    url, clientId: `edgenn-fleet-watch-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`,
    reconnectMinMs: 200, reconnectMaxMs: 5000,
    ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}), ...(ca !== undefined ? { ca } : {}),
    log: (l) => { if (!json) return; if (/error|refused|closed/.test(l)) io.stderr(`edgenn fleet: ${l}\n`); },
  });
  t.onMessage((topic, payload) => {
    const p = parseTopic(topic);
    if (p === null || (fleet !== undefined && p.fleet !== fleet)) return;
    mergeOf(p.fleet).ingest(topic, payload);
  });
  t.onConnect(() => { if (!json) dirty = true; });
  void t.subscribe(fleet !== undefined ? fleetFilter(fleet) : `${TOPIC_ROOT}/+/+/#`, 1).catch((e: Error) => io.stderr(`edgenn fleet: ${e.message}\n`));
  t.start();
  if (!json) io.stderr(`edgenn fleet: watching ${fleet ?? 'every fleet'} on ${redactUrl(url)}; Ctrl-C stops\n`);

  const draw = (): void => {
    if (json || !dirty) return;
    dirty = false;
    const rows = [...merges.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .flatMap(([f, m]) => m.devices().map((view) => ({ fleet: f, view })));
    const table = rows.length > 0 ? renderFleetTable(rows, Date.now()) : `no devices yet${t.connected ? '' : ' (connecting...)'}\n`;
    io.stdout(io.isTTY ? `\x1b[H\x1b[2J${table}` : `${table}\n`);
  };
  // On a terminal the "last seen" column ages every second; elsewhere only changes are printed.
  const tick = setInterval(() => { if (io.isTTY) dirty = true; draw(); }, 1000);
  let finish: (why: string) => void = () => undefined;
  const finished = new Promise<string>((resolve) => { finish = resolve; });
  const onSignal = (sig: NodeJS.Signals): void => finish(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = duration !== undefined ? setTimeout(() => finish('duration'), duration * 1000) : null;
  await finished;
  if (timer !== null) clearTimeout(timer);
  clearInterval(tick);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  draw();
  await t.end();
  return 0;
}

export const fleetCommand: Command = { spec, run };
