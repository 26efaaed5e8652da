// Nothing lost across broker restarts: 3000 metrics records are made at ~1 per ms while mosquitto
// is stopped (SIGTERM) and started again 5 times. Proven from the fleet side: an observer with a
// persistent session (clean=false, QoS 1) on a broker with persistence, so the observer itself
// cannot lose a message across a restart; after de-dup by (device, seq) every record made must
// be there exactly once, in order. The in-flight window must hold (<= 10 un-acked publishes).
// Needs /usr/sbin/mosquitto (fails, never skips, without it). Bounded waits throughout.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../../devices/telemetry/start-telemetry.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { persistentObserver, sleep, until } from './support.js';

let mosq: Mosquitto;
let dir = '';
beforeAll(async () => {
  // maxQueuedMessages: mosquitto's default per-client queue (1000) would drop QoS 1 messages for
  // the *observer* while it reconnects; that bound belongs to the fleet side, not to the device.
  mosq = await startMosquitto({ persistence: true, maxQueuedMessages: 1_000_000 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-restarts-'));
});
afterAll(async () => {
  await mosq?.dispose();
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
});

describe('broker restarts', () => {
  it('delivers all 3000 records exactly once after de-dup while the broker restarts 5 times', async () => {
    const N = 3000, RESTARTS = 5;
    const obs = await persistentObserver(mosq.url, 'lab', 'fleet-observer-restarts');
    const made: number[] = [];
    let protocols = new Set<number>();
    const tel = startTelemetry({
      fleet: 'lab', device: 'r1', stateDir: dir,
      mqtt: { url: mosq.url, reconnectMinMs: 20, reconnectMaxMs: 100 },
      model: () => ({ id: 'm', version: '1', hash: 'h' }), agentVersion: 'test',
      reportIntervalMs: 3_600_000, // driven below, so exactly N records are made
      cursorSaveMs: 50,
      onAppend: (kind, seq) => { if (kind === 'metrics') made.push(seq); },
    });
    tel.transport.onConnect((i) => { protocols.add(i.protocolVersion); });

    const producing = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        tel.ring.recordInference(50 + (made.length % 100));
        tel.publisher.flush();
        if (made.length >= N) { clearInterval(timer); resolve(); }
      }, 1);
    });
    let restarts = 0;
    const restarting = (async () => {
      for (let i = 0; i < RESTARTS; i++) {
        await sleep(250);
        await mosq.stop();       // SIGTERM: the publisher sees its connection drop mid-burst
        await sleep(150);        // records made meanwhile wait in the outbox
        await mosq.start();
        restarts++;
      }
    })();
    await Promise.all([producing, restarting]);
    expect(made.length).toBe(N);
    expect(restarts).toBe(RESTARTS);
    expect(await tel.publisher.waitDrained(20_000)).toBe(true);

    const got = (): number[] => obs.accepted.get('r1') ?? [];
    await until(() => got().length >= N, 15_000, () => `${N} records at the observer (got ${got().length})`);
    const accepted = got();
    const raw = obs.raw.get('r1') ?? [];
    const received = new Set(accepted);
    const lost = made.filter((s) => !received.has(s));
    console.log(`[restarts] sent ${N} records (${tel.publisher.stats.publishes} publishes incl. re-sends) through ` +
      `${RESTARTS} broker restarts; received ${raw.length} raw, ${raw.length - accepted.length} duplicates removed, ` +
      `${accepted.length} unique, lost ${lost.length}; max in flight ${tel.publisher.stats.maxInflight}; ` +
      `protocols ${[...protocols].join(',')}; merge counts ${JSON.stringify(obs.merge.counts)}`);
    expect(lost).toEqual([]);
    expect(accepted.length).toBe(N);
    expect([...received].sort((a, b) => a - b)).toEqual([...made].sort((a, b) => a - b));
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]!).toBeGreaterThan(accepted[i - 1]!);
    expect(tel.publisher.stats.maxInflight).toBeLessThanOrEqual(10);
    expect(tel.outbox.takeDropped()).toBe(0);
    expect(protocols).toEqual(new Set([5]));
    await tel.stop(1000);
    await obs.t.end();
    protocols = new Set();
  });
});
