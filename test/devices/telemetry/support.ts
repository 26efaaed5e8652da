// Shared pieces of the telemetry integration tests (not a test file itself): bounded waiting, a
// fleet observer that cannot lose messages across broker restarts, and bundling the child
// publisher script with esbuild (there is no TS loader for child processes here).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { FleetMerge, attachFleetMerge } from '../../../devices/telemetry/fleet-merge.js';
import { createMqttTransport, type Transport } from '../../../devices/telemetry/mqtt-transport.js';

export async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Observer {
  readonly t: Transport;
  readonly merge: FleetMerge;
  /** Every raw metrics seq received per device, duplicates included, in arrival order. */
  readonly raw: Map<string, number[]>;
  /** Accepted (first-time) metrics seqs per device, in arrival order. */
  readonly accepted: Map<string, number[]>;
}

/** The fleet side of a loss test. clean=false + QoS 1 subscription on a broker with persistence:
 * while it is disconnected, or while the broker restarts (SIGTERM saves the session and its
 * queued messages), the broker keeps its messages, so the observer itself cannot lose any. */
export async function persistentObserver(url: string, fleet: string, clientId: string): Promise<Observer> {
  const t = createMqttTransport({ url, clientId, clean: false, reconnectMinMs: 30, reconnectMaxMs: 150 });
  const merge = new FleetMerge(fleet);
  const raw = new Map<string, number[]>();
  const accepted = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number): void => {
    let a = m.get(k);
    if (a === undefined) { a = []; m.set(k, a); }
    a.push(v);
  };
  t.onMessage((topic, payload) => {
    if (!topic.endsWith('/metrics')) return;
    try {
      const r = JSON.parse(payload.toString()) as { device: string; seq: number };
      push(raw, r.device, r.seq);
    } catch { /* counted as invalid by the merge */ }
  });
  merge.onRecord((r) => { if (r.kind === 'metrics') push(accepted, r.device, r.record.seq); });
  await attachFleetMerge(t, merge);
  t.start();
  await until(() => t.connected, 5000, () => 'observer connect');
  return { t, merge, raw, accepted };
}

/** Bundles child-publisher.ts (and mqtt.js with it) into one CommonJS file runnable by
 * process.execPath. */
export async function bundleChild(): Promise<{ file: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-child-'));
  const file = path.join(dir, 'child-publisher.cjs');
  await build({
    entryPoints: [path.join(path.dirname(new URL(import.meta.url).pathname), 'child-publisher.ts')],
    bundle: true, platform: 'node', format: 'cjs', target: 'node18', outfile: file, logLevel: 'silent',
  });
  return { file, dir };
}
