// Shared pieces of the agent tests (not a test file): a small JSON model, seeded labelled data,
// a device config in a temp folder, bounded waiting, and a collecting fleet-side MQTT client.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../../runtime/random.js';
import { createMqttTransport, type Transport } from '../../../devices/telemetry/mqtt-transport.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(10);
  }
}

/** A 4 → 8 → 3 classifier as a JSON model (weights from the seed). */
export function modelText(seed = 0, hidden = 8): string {
  return JSON.stringify({
    format: 'edgenn-model', version: 1, input: { name: 'input', dims: [4] }, seed,
    layers: [{ type: 'dense', out: hidden }, { type: 'relu' }, { type: 'dense', out: 3 }],
  });
}

/** Seeded 3-class blobs in 4-D: class c centred at 2*e_c (well separated, learnable). */
export function blobs(n: number, seed: number): { x: number[][]; y: number[] } {
  const rng = new Rng(seed);
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const v = [0, 0, 0, 0].map((_, k) => (k === c ? 2 : 0) + 0.3 * rng.normal());
    x.push(v.map((a) => Math.round(a * 1e4) / 1e4));
    y.push(c);
  }
  return { x, y };
}

export interface Work {
  readonly dir: string;
  readonly p: (name: string) => string;
  write(name: string, data: string | Uint8Array): string;
  /** Writes device.json (base config merged with `over`, keys set to undefined removed). */
  config(over?: Record<string, unknown>): string;
  cleanup(): void;
}

export function work(prefix = 'edgenn-agent-'): Work {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const p = (name: string): string => path.join(dir, name);
  fs.writeFileSync(p('model.json'), modelText());
  return {
    dir, p,
    write(name, data) { fs.mkdirSync(path.dirname(p(name)), { recursive: true }); fs.writeFileSync(p(name), data); return p(name); },
    config(over = {}) {
      const base: Record<string, unknown> = {
        device: 'pi1', fleet: 'lab', stateDir: 'state',
        model: { store: 'store', path: 'model.json', id: 'blobs', version: '1.0.0' },
        signature: { input: [4], output: [3] },
        maxBatch: 16,
        sources: [],
        reportIntervalMs: 3_600_000,
      };
      const merged: Record<string, unknown> = { ...base, ...over };
      for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
      fs.writeFileSync(p('device.json'), JSON.stringify(merged, null, 2));
      return p('device.json');
    },
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

export const FINE_TUNE = {
  loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.1 },
  bufferSize: 256, minSamples: 30, everyNewSamples: 0, epochs: 3, batchSize: 16, validationSplit: 0.25, keepCheckpoints: 3,
};

/** A fleet-side client that records everything under edgenn/<fleet>/#. */
export interface Listener {
  readonly t: Transport;
  readonly msgs: Array<{ topic: string; body: Record<string, unknown> }>;
  of(kind: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function listen(url: string, filter: string, opts: { username?: string; password?: string; clientId?: string } = {}): Promise<Listener> {
  const t = createMqttTransport({
    url, clientId: opts.clientId ?? `test-listener-${process.pid}-${Math.random().toString(36).slice(2)}`,
    reconnectMinMs: 50, reconnectMaxMs: 200,
    ...(opts.username !== undefined ? { username: opts.username } : {}), ...(opts.password !== undefined ? { password: opts.password } : {}),
  });
  const msgs: Array<{ topic: string; body: Record<string, unknown> }> = [];
  t.onMessage((topic, payload) => {
    let body: Record<string, unknown>;
    try { body = JSON.parse(payload.toString()) as Record<string, unknown>; } catch { body = { raw: payload.toString() }; }
    msgs.push({ topic, body });
  });
  void t.subscribe(filter, 1);
  t.start();
  await until(() => t.connected, 5000, () => 'listener connect');
  await sleep(100); // the SUBACK
  return {
    t, msgs,
    of: (kind) => msgs.filter((m) => m.topic.endsWith(`/${kind}`)).map((m) => m.body),
    close: () => t.end(),
  };
}

import { scanOutbox } from '../../../devices/telemetry/outbox.js';
import { decodeOutboxPayload } from '../../../devices/telemetry/schema.js';

/** Records waiting in a device's outbox (offline agents keep everything there), oldest first. */
export function outboxRecords(stateDir: string): Array<{ kind: string; body: Record<string, unknown> }> {
  const dump = scanOutbox(path.join(stateDir, 'outbox'));
  return dump.payloads.map((p) => decodeOutboxPayload(p)!).map((d) => ({ kind: d.kind, body: JSON.parse(d.body.toString()) as Record<string, unknown> }));
}

export function eventsOf(stateDir: string, type: string): Array<Record<string, unknown>> {
  return outboxRecords(stateDir).filter((r) => r.kind === 'events' && r.body.type === type).map((r) => r.body);
}
