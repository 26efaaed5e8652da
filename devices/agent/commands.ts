// Commands from the fleet on edgenn/<fleet>/<device>/cmd and their replies on .../reply:
//   {"v": 1, "id": "<correlation id>", "cmd": "<name>", "args": {...}}
//   → {"v", "seq", "ts", "device", "id": "<the same id>", "ok": true|false, "data"?, "error"?}
// Names and arguments (CONFIG.md has the table):
//   status                          the status report as data (and a metrics record now)
//   fine-tune-start                 enable fine-tuning (count / schedule triggers)
//   fine-tune-stop                  disable it; a running fine-tune stops after its epoch (rolled back)
//   fine-tune-now                   run one fine-tune now; data = its outcome
//   set-report-interval {"ms": n}   metrics interval, 100 ms .. 24 h
//   update {"artifact": "<base64>"} | {"ref": "file:///..." | "http://127.0.0.1:PORT/..."}
//                                   verify, stage, validate, swap (probation follows); data = versions
//   rollback                        serve the previous model again
// Correlation: the reply always carries the cmd's `id` (all that MQTT 3.1.1 offers). On MQTT 5 it
// also echoes the cmd's correlation data and goes to its response topic when that topic lies under
// this device's own prefix edgenn/<fleet>/<device>/ (else to the standard reply topic: the broker
// ACL lets a device publish only under its own topics); publisher.ts does the routing and keeps
// the route with the queued reply. Malformed payloads are routed the same way (the properties are
// readable even when the JSON is not). Unknown commands, bad arguments and malformed payloads (not
// JSON, no id, no cmd) get an error reply (id "" when none could be read); nothing here throws to
// the caller or crashes the agent.
//
// It is not the agent: the CommandTarget does the work.

import { EdgennError } from '../../runtime/errors.js';
import type { CommandMessage, Publisher } from '../telemetry/publisher.js';
import type { JsonValue } from '../telemetry/schema.js';
import type { Transport } from '../telemetry/mqtt-transport.js';

export interface CommandTarget {
  status(): JsonValue;
  fineTuneStart(): JsonValue;
  fineTuneStop(): JsonValue;
  fineTuneNow(): Promise<JsonValue>;
  setReportInterval(ms: number): JsonValue;
  update(src: { readonly artifact: Uint8Array } | { readonly ref: string }): Promise<JsonValue>;
  rollback(): Promise<JsonValue>;
}

export const COMMAND_NAMES = ['status', 'fine-tune-start', 'fine-tune-stop', 'fine-tune-now', 'set-report-interval', 'update', 'rollback'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function argsObject(cmd: string, args: unknown, keys: readonly string[]): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args)) throw new EdgennError('ARG', `${cmd}: args must be an object`);
  for (const k of Object.keys(args)) {
    if (!keys.includes(k)) throw new EdgennError('ARG', `${cmd}: unknown argument ${JSON.stringify(k)}`, { expected: keys.length > 0 ? keys.join(', ') : 'no arguments' });
  }
  return args as Record<string, unknown>;
}

/** Runs one command; resolves to the reply data, rejects with an EdgennError for the error reply. */
export async function runCommand(t: CommandTarget, cmd: string, args: unknown): Promise<JsonValue> {
  switch (cmd as CommandName) {
    case 'status':
      argsObject(cmd, args, []);
      return t.status();
    case 'fine-tune-start':
      argsObject(cmd, args, []);
      return t.fineTuneStart();
    case 'fine-tune-stop':
      argsObject(cmd, args, []);
      return t.fineTuneStop();
    case 'fine-tune-now':
      argsObject(cmd, args, []);
      return t.fineTuneNow();
    case 'set-report-interval': {
      const a = argsObject(cmd, args, ['ms']);
      const ms = a.ms;
      if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 100 || ms > 24 * 3600 * 1000) {
        throw new EdgennError('ARG', `${cmd}: bad ms`, { expected: 'an integer in [100, 86400000]', actual: JSON.stringify(ms) ?? 'nothing' });
      }
      return t.setReportInterval(ms);
    }
    case 'update': {
      const a = argsObject(cmd, args, ['artifact', 'ref']);
      if ((a.artifact === undefined) === (a.ref === undefined)) {
        throw new EdgennError('ARG', 'update: give exactly one of artifact (base64) or ref (file:// or loopback http:// URL)');
      }
      if (a.artifact !== undefined) {
        if (typeof a.artifact !== 'string') throw new EdgennError('ARG', 'update: artifact must be a base64 string');
        const b64 = a.artifact.replace(/\s+/g, '');
        if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64_RE.test(b64)) throw new EdgennError('ARG', 'update: artifact is not valid base64');
        return t.update({ artifact: Buffer.from(b64, 'base64') });
      }
      if (typeof a.ref !== 'string' || a.ref === '') throw new EdgennError('ARG', 'update: ref must be a non-empty string');
      return t.update({ ref: a.ref });
    }
    case 'rollback':
      argsObject(cmd, args, []);
      return t.rollback();
    default:
      throw new EdgennError('ARG', `unknown command ${JSON.stringify(cmd)}`, { expected: `one of ${COMMAND_NAMES.join(', ')}` });
  }
}

/** Why a cmd payload is malformed (Publisher ignores those; they still deserve a reply), or null. */
export function malformedCommand(payload: Buffer): { id: string; error: string } | null {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return { id: '', error: 'malformed command: payload is not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { id: '', error: 'malformed command: payload is not a JSON object' };
  const r = raw as Record<string, unknown>;
  const id = typeof r.id === 'string' ? r.id : '';
  if (typeof r.id !== 'string') return { id, error: 'malformed command: "id" must be a string' };
  if (typeof r.cmd !== 'string') return { id, error: 'malformed command: "cmd" must be a string' };
  return null;
}

export interface CommandStats {
  received: number;
  ok: number;
  failed: number;
  malformed: number;
}

/** Wires commands: well-formed ones via publisher.onCommand, malformed ones straight from the
 * transport (the publisher drops them silently). Replies go through the publisher's outbox. */
export function attachCommands(publisher: Publisher, transport: Transport, target: CommandTarget,
  log: (line: string) => void = () => undefined): CommandStats {
  const stats: CommandStats = { received: 0, ok: 0, failed: 0, malformed: 0 };
  const cmdTopic = publisher.topics.cmd;
  publisher.onCommand((m: CommandMessage) => {
    stats.received++;
    const started = (async () => runCommand(target, m.cmd, m.args))();
    started.then(
      (data) => { stats.ok++; publisher.reply(m.id, true, data, undefined, m.route); },
      (e: unknown) => {
        stats.failed++;
        const msg = e instanceof Error ? e.message : String(e);
        log(`command ${m.cmd} (${m.id}) failed: ${msg}`);
        publisher.reply(m.id, false, undefined, msg, m.route);
      },
    ).catch((e: unknown) => log(`reply failed: ${String(e)}`));
  });
  transport.onMessage((topic, payload, props) => {
    if (topic !== cmdTopic) return;
    const bad = malformedCommand(payload);
    if (bad === null) return;
    stats.received++;
    stats.malformed++;
    log(bad.error);
    try { publisher.reply(bad.id, false, undefined, bad.error, props); } catch (e) { log(`reply failed: ${String(e)}`); }
  });
  return stats;
}
