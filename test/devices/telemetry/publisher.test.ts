// The publisher (publisher.ts) against a scripted fake Transport: the in-flight window, "removed
// from the outbox only after its PUBACK", re-send in order after a reconnect, the retained online
// status and its conn, the metrics record's fields, commands. Exact comparisons throughout.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricRing } from '../../../devices/telemetry/metric-ring.js';
import type { ConnectInfo, PublishOptions, Transport } from '../../../devices/telemetry/mqtt-transport.js';
import { Outbox } from '../../../devices/telemetry/outbox.js';
import { Publisher, createStatusWill } from '../../../devices/telemetry/publisher.js';
import { SeqCounter } from '../../../devices/telemetry/seq.js';
import { deviceTopics } from '../../../devices/telemetry/topics.js';

interface Sent { topic: string; body: Record<string, unknown>; retain: boolean; ack: () => void; nack: (e: Error) => void }

class FakeTransport implements Transport {
  connected = false;
  protocolVersion: 4 | 5 | null = null;
  sent: Sent[] = [];
  outstanding = 0;
  maxOutstanding = 0;
  subs: string[] = [];
  private gen = 0;
  private c: Array<(i: ConnectInfo) => void> = [];
  private x: Array<() => void> = [];
  private m: Array<(t: string, p: Buffer) => void> = [];
  start(): void { this.up(); }
  up(): void { this.connected = true; this.protocolVersion = 5; this.gen++; for (const f of this.c) f({ protocolVersion: 5, sessionPresent: false }); }
  down(): void {
    this.connected = false; this.gen++;
    const pend = this.sent.filter((s) => (s as Sent & { open?: boolean }).open);
    for (const s of pend) s.nack(new Error('closed'));
    for (const f of this.x) f();
  }
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('not connected'));
    expect(opts.qos).toBe(1);
    return new Promise((resolve, reject) => {
      const s: Sent & { open: boolean } = {
        topic, body: JSON.parse(payload.toString()) as Record<string, unknown>, retain: opts.retain ?? false, open: true,
        ack: () => { if (s.open) { s.open = false; this.outstanding--; resolve(); } },
        nack: (e) => { if (s.open) { s.open = false; this.outstanding--; reject(e); } },
      };
      this.outstanding++;
      this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
      this.sent.push(s);
    });
  }
  subscribe(filter: string): Promise<void> { this.subs.push(filter); return Promise.resolve(); }
  onConnect(cb: (i: ConnectInfo) => void): void { this.c.push(cb); }
  onClose(cb: () => void): void { this.x.push(cb); }
  onMessage(cb: (t: string, p: Buffer) => void): void { this.m.push(cb); }
  deliver(topic: string, payload: string): void { for (const f of this.m) f(topic, Buffer.from(payload)); }
  end(): Promise<void> { this.connected = false; return Promise.resolve(); }
  open(): Sent[] { return this.sent.filter((s) => (s as Sent & { open: boolean }).open); }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
let dir = '';
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-pub-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function setup(window = 10, retryMs = 1000) {
  const t = new FakeTransport();
  const outbox = Outbox.open({ dir: path.join(dir, 'outbox') });
  const seq = SeqCounter.open(path.join(dir, 'seq.json'));
  const ring = new MetricRing({ capacity: 16 });
  const will = createStatusWill(deviceTopics('lab', 'pi1'), 'pi1', seq, () => 123);
  const p = new Publisher({
    fleet: 'lab', device: 'pi1', transport: t, outbox, seq, ring, will, inflightWindow: window,
    model: () => ({ id: 'mnist', version: '3', hash: 'abc' }), agentVersion: '0.1.0', arenaBytes: () => 4096,
    reportIntervalMs: 3_600_000, now: () => 1_700_000_000_000, retryMs,
    system: () => ({ rssBytes: 1, heapUsedBytes: 2, load: [0.5, 0.25, 0.125], cpuTempC: null }),
  });
  return { t, outbox, seq, ring, will, p };
}

describe('Publisher', () => {
  it('keeps at most `window` publishes un-acked and removes a record only on its PUBACK', async () => {
    const { t, outbox, p } = setup(10);
    t.connected = false;
    for (let i = 0; i < 50; i++) p.flush();          // offline: all 50 wait in the outbox
    expect(outbox.depth).toBe(50);
    expect(t.sent.length).toBe(0);
    t.up();
    const metricsSent = (): Sent[] => t.sent.filter((s) => s.topic.endsWith('/metrics'));
    expect(metricsSent().length).toBe(10);
    expect(outbox.depth).toBe(50);                   // sent is not acked
    let acked = 0;
    while (acked < 50) {
      const open = t.open().filter((s) => s.topic.endsWith('/metrics'));
      expect(open.length).toBeLessThanOrEqual(10);
      open[0]!.ack(); acked++;
      await tick();
      expect(outbox.depth).toBe(50 - acked);
    }
    const seqs = metricsSent().map((s) => s.body.seq as number);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(seqs.length).toBe(50);
    expect(p.stats.maxInflight).toBe(10);
    await outbox.close();
  });

  it('re-sends every un-acked record, in order, after the connection drops', async () => {
    const { t, outbox, p } = setup(4);
    t.start();
    for (let i = 0; i < 6; i++) p.flush();
    const first = t.open().filter((s) => s.topic.endsWith('/metrics'));
    expect(first.map((s) => s.body.seq)).toHaveLength(4);
    first[0]!.ack(); first[1]!.ack();
    await tick();
    const seqsBefore = t.sent.filter((s) => s.topic.endsWith('/metrics')).map((s) => s.body.seq as number);
    t.down();
    await tick();
    expect(outbox.depth).toBe(4);
    const n = t.sent.length;
    t.up();
    const resent = t.sent.slice(n).filter((s) => s.topic.endsWith('/metrics')).map((s) => s.body.seq as number);
    // the two un-acked in flight (3rd, 4th) and the two never sent, oldest first
    const all = [...new Set([...seqsBefore, ...resent])].sort((a, b) => a - b);
    expect(resent).toEqual(all.slice(2, 6));
    for (const s of t.open()) s.ack();
    await tick();
    expect(outbox.depth).toBe(0);
    await outbox.close();
  });

  it('keeps a record the broker refused (e.g. Quota exceeded) and re-sends it after retryMs', async () => {
    const { t, outbox, p } = setup(10, 20);
    t.start();
    p.flush();
    const first = t.open().find((s) => s.topic.endsWith('/metrics'))!;
    first.nack(new Error('Quota exceeded'));
    await tick();
    expect(outbox.depth).toBe(1);
    expect(p.stats.refused).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    const again = t.open().filter((s) => s.topic.endsWith('/metrics'));
    expect(again.map((s) => s.body.seq)).toEqual([first.body.seq]);
    again[0]!.ack();
    await tick();
    expect(outbox.depth).toBe(0);
    await outbox.close();
  });

  it('publishes a retained online status carrying the conn of the will, with fresh seqs', () => {
    const { t, will, outbox } = setup();
    const w = will.make();                           // what the transport does before connecting
    t.start();
    const st = t.sent.find((s) => s.topic === 'edgenn/lab/pi1/status')!;
    expect(st.retain).toBe(true);
    expect(st.body).toMatchObject({ v: 1, device: 'pi1', state: 'online', conn: will.conn(), agent: '0.1.0', model: { version: '3' } });
    const wb = JSON.parse(w.payload.toString()) as Record<string, unknown>;
    expect(wb).toMatchObject({ state: 'offline', reason: 'will', seq: will.conn(), conn: will.conn(), ts: 123 });
    expect(w.retain).toBe(true);
    expect(st.body.seq as number).toBeGreaterThan(wb.seq as number);
    return outbox.close();
  });

  it('builds the documented metrics record', async () => {
    const { t, ring, outbox, p } = setup();
    t.start();
    for (let i = 1; i <= 10; i++) ring.recordInference(i * 100);
    ring.recordTrainStep(0.25, 0.9);
    const r = p.flush();
    expect(Object.keys(r).sort()).toEqual([
      'accuracy', 'agent', 'arenaBytes', 'cpuTempC', 'device', 'dropped', 'errors', 'heapUsedBytes',
      'inferences', 'intervalMs', 'latencyUs', 'load', 'loss', 'model', 'outboxDepth', 'rssBytes', 'seq',
      'throughput', 'trainSteps', 'ts', 'uptimeS', 'v'].sort());
    expect(r).toMatchObject({
      v: 1, device: 'pi1', ts: 1_700_000_000_000, inferences: 10, errors: 0, loss: 0.25, accuracy: 0.9,
      trainSteps: 1, arenaBytes: 4096, load: [0.5, 0.25, 0.125], cpuTempC: null, agent: '0.1.0', dropped: 0,
    });
    // numpy 'linear' percentiles of 100..1000; 1e-9 because the rank (n - 1) * 0.95 = 8.55 is not
    // exact in binary (gives 954.9999999999999)
    expect(r.latencyUs).toMatchObject({ p50: 550, max: 1000, samples: 10 });
    expect(r.latencyUs!.p95).toBeCloseTo(955, 9);
    expect(r.latencyUs!.p99).toBeCloseTo(991, 9);
    const sent = t.sent.find((s) => s.topic === 'edgenn/lab/pi1/metrics')!;
    expect(sent.body).toEqual(JSON.parse(JSON.stringify(r)));
    const r2 = p.flush();                             // an idle interval: no latency, no training fields
    expect(r2.latencyUs).toBeNull();
    expect('loss' in r2).toBe(false);
    expect(r2.seq).toBeGreaterThan(r.seq);
    await outbox.close();
  });

  it('passes well-formed commands to onCommand and queues replies and events through the outbox', async () => {
    const { t, outbox, p } = setup();
    const cmds: string[] = [];
    p.onCommand((c) => cmds.push(`${c.id}:${c.cmd}`));
    p.start();
    expect(t.subs).toEqual(['edgenn/lab/pi1/cmd']);
    t.deliver('edgenn/lab/pi1/cmd', JSON.stringify({ id: 'c1', cmd: 'ping' }));
    t.deliver('edgenn/lab/pi1/cmd', 'garbage');
    t.deliver('edgenn/lab/pi1/metrics', JSON.stringify({ id: 'c2', cmd: 'ping' }));
    expect(cmds).toEqual(['c1:ping']);
    p.reply('c1', true, { pong: 1 });
    p.event('model-swapped', { from: '2', to: '3' });
    const topics = t.sent.map((s) => s.topic);
    expect(topics).toContain('edgenn/lab/pi1/reply');
    expect(topics).toContain('edgenn/lab/pi1/events');
    expect(t.sent.find((s) => s.topic.endsWith('/reply'))!.body).toMatchObject({ id: 'c1', ok: true, data: { pong: 1 } });
    await p.stop(10);
    await outbox.close();
  });
});
