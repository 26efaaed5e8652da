// The publisher (publisher.ts) against a scripted fake Transport: the in-flight window, "removed
// from the outbox only after its PUBACK", re-send in order after a reconnect, the retained online
// status and its conn, the metrics record's fields, commands. Exact comparisons throughout.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricRing } from '../../../devices/telemetry/metric-ring.js';
import type { ConnectInfo, MessageProperties, PublishOptions, Transport } from '../../../devices/telemetry/mqtt-transport.js';
import { Outbox } from '../../../devices/telemetry/outbox.js';
import { Publisher, createStatusWill } from '../../../devices/telemetry/publisher.js';
import { SeqCounter } from '../../../devices/telemetry/seq.js';
import { deviceTopics } from '../../../devices/telemetry/topics.js';

interface Sent { topic: string; body: Record<string, unknown>; retain: boolean; props: MessageProperties | undefined; ack: () => void; nack: (e: Error) => void }

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
  private m: Array<(t: string, p: Buffer, props: MessageProperties) => void> = [];
  version: 4 | 5 = 5;
  start(): void { this.up(); }
  up(): void { this.connected = true; this.protocolVersion = this.version; this.gen++; for (const f of this.c) f({ protocolVersion: this.version, sessionPresent: false }); }
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
        topic, body: JSON.parse(payload.toString()) as Record<string, unknown>, retain: opts.retain ?? false, props: opts.properties, open: true,
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
  onMessage(cb: (t: string, p: Buffer, props: MessageProperties) => void): void { this.m.push(cb); }
  deliver(topic: string, payload: string, props: MessageProperties = {}): void { for (const f of this.m) f(topic, Buffer.from(payload), props); }
  end(): Promise<void> { this.connected = false; return Promise.resolve(); }
  open(): Sent[] { return this.sent.filter((s) => (s as Sent & { open: boolean }).open); }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
let dir = '';
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-pub-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function setup(window = 10, retryMs = 1000, ring = new MetricRing({ capacity: 16 })) {
  const t = new FakeTransport();
  const outbox = Outbox.open({ dir: path.join(dir, 'outbox') });
  const seq = SeqCounter.open(path.join(dir, 'seq.json'));
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
      'inferences', 'intervalMs', 'kernels', 'latencyUs', 'load', 'loss', 'model', 'outboxDepth', 'rssBytes', 'seq',
      'throughput', 'trainSteps', 'ts', 'uptimeS', 'v'].sort());
    expect(['wasm', 'js']).toContain(r.kernels);
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

  it('MQTT 5: echoes the correlation data and uses the response topic only under the device prefix', async () => {
    const { t, outbox, p } = setup();
    const routes: Array<MessageProperties> = [];
    p.onCommand((c) => { routes.push(c.route); p.reply(c.id, true, { n: routes.length }, undefined, c.route); });
    p.start();
    const corr = Buffer.from([0, 1, 2, 0xfe, 0xff]);              // binary, with a NUL: not a string
    const cases: Array<[string | undefined, string]> = [
      ['edgenn/lab/pi1/reply/ops-7', 'edgenn/lab/pi1/reply/ops-7'], // own prefix: used
      ['edgenn/lab/pi1/reply', 'edgenn/lab/pi1/reply'],
      ['edgenn/lab/pi1/answers', 'edgenn/lab/pi1/answers'],
      ['edgenn/lab/pi2/reply/ops-7', 'edgenn/lab/pi1/reply'],       // another device: standard topic
      ['ops/replies/7', 'edgenn/lab/pi1/reply'],                     // outside edgenn: standard topic
      ['edgenn/lab/pi1', 'edgenn/lab/pi1/reply'],                    // the prefix without its slash
      ['edgenn/lab/pi1/', 'edgenn/lab/pi1/reply'],                   // nothing under the prefix
      ['edgenn/lab/pi1/cmd', 'edgenn/lab/pi1/reply'],                // would loop back as a command
      ['edgenn/lab/pi1/status', 'edgenn/lab/pi1/reply'],             // telemetry topics are not replies
      ['edgenn/lab/pi1/metrics', 'edgenn/lab/pi1/reply'],
      ['edgenn/lab/pi1/events', 'edgenn/lab/pi1/reply'],
      ['edgenn/lab/pi1/reply/#', 'edgenn/lab/pi1/reply'],            // wildcards are not topic names
      ['edgenn/lab/pi1/+/x', 'edgenn/lab/pi1/reply'],
      [undefined, 'edgenn/lab/pi1/reply'],                           // correlation data only
    ];
    for (const [i, [rt]] of cases.entries()) {
      t.deliver('edgenn/lab/pi1/cmd', JSON.stringify({ id: `c${i}`, cmd: 'ping' }),
        { ...(rt !== undefined ? { responseTopic: rt } : {}), correlationData: corr });
    }
    while (t.open().length > 0) {                                  // the in-flight window is 10
      for (const s of t.open()) s.ack();
      await tick();
    }
    const replies = t.sent.filter((s) => typeof s.body.id === 'string');
    expect(replies.map((s) => s.body.id)).toEqual(cases.map((_, i) => `c${i}`));
    for (const [i, [, want]] of cases.entries()) {
      expect(replies[i]!.topic, String(cases[i]![0])).toBe(want);
      expect(replies[i]!.props).toEqual({ correlationData: corr });   // only correlation data is sent back
      expect(replies[i]!.body).toMatchObject({ id: `c${i}`, ok: true, data: { n: i + 1 } });
    }
    expect(routes[0]).toEqual({ responseTopic: 'edgenn/lab/pi1/reply/ops-7', correlationData: corr });
    // A 3.1.1 command carries no properties: the standard topic, id only.
    t.deliver('edgenn/lab/pi1/cmd', JSON.stringify({ id: 'plain', cmd: 'ping' }));
    const plain = t.sent.find((s) => s.body.id === 'plain')!;
    expect(plain.topic).toBe('edgenn/lab/pi1/reply');
    expect(plain.props).toBeUndefined();
    for (const s of t.open()) s.ack();
    await tick();
    expect(outbox.depth).toBe(0);
    await p.stop(10);
    await outbox.close();
  });

  it('keeps the route with the queued reply: sent with it after a restart, and without it on 3.1.1', async () => {
    const corr = Buffer.from('req-42');
    {
      const { t, outbox, p } = setup();
      t.connected = false;                                          // offline: the reply waits on disk
      p.reply('c1', true, { x: 1 }, undefined, { responseTopic: 'edgenn/lab/pi1/reply/ops', correlationData: corr });
      p.reply('c2', false, undefined, 'nope', { correlationData: corr });
      p.reply('c3', true);
      expect(t.sent.length).toBe(0);
      await outbox.close();
    }
    {
      const { t, outbox, p } = setup();                             // the "restarted" agent, same stateDir
      expect(outbox.depth).toBe(3);
      t.start();
      const r = t.sent.filter((s) => typeof s.body.id === 'string');
      expect(r.map((s) => [s.body.id, s.topic, s.props])).toEqual([
        ['c1', 'edgenn/lab/pi1/reply/ops', { correlationData: corr }],
        ['c2', 'edgenn/lab/pi1/reply', { correlationData: corr }],
        ['c3', 'edgenn/lab/pi1/reply', undefined],
      ]);
      expect(r[1]!.body).toMatchObject({ id: 'c2', ok: false, error: 'nope' });
      // not acked: after another restart onto a 3.1.1 broker the same records go id-only
      await p.stop(10);
      await outbox.close();
    }
    {
      const { t, outbox } = setup();
      t.version = 4;
      t.start();
      const r = t.sent.filter((s) => typeof s.body.id === 'string');
      expect(r.map((s) => [s.body.id, s.topic, s.props])).toEqual([
        ['c1', 'edgenn/lab/pi1/reply', undefined],
        ['c2', 'edgenn/lab/pi1/reply', undefined],
        ['c3', 'edgenn/lab/pi1/reply', undefined],
      ]);
      await outbox.close();
    }
  });

  it('re-sends a reply on the standard topic when the broker refuses its response topic', async () => {
    const { t, outbox, p } = setup(10, 20);
    t.start();
    const corr = Buffer.from([9, 9]);
    p.reply('c1', true, null, undefined, { responseTopic: 'edgenn/lab/pi1/other', correlationData: corr });
    const first = t.open().find((s) => s.body.id === 'c1')!;
    expect(first.topic).toBe('edgenn/lab/pi1/other');
    first.nack(new Error('Not authorized'));                       // what mosquitto's ACL answers on v5
    await tick();
    expect(outbox.depth).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    const again = t.open().filter((s) => s.body.id === 'c1');
    expect(again.map((s) => [s.topic, s.props])).toEqual([['edgenn/lab/pi1/reply', { correlationData: corr }]]);
    again[0]!.ack();
    await tick();
    expect(outbox.depth).toBe(0);
    await outbox.close();
  });

  it('renewRing closes the interval under the old layer names and names gradient norms after the new model', async () => {
    const ring = new MetricRing({ capacity: 16, layerNames: ['0.weight', '0.bias'] });
    const { t, outbox, p } = setup(10, 1000, ring);
    t.start();
    ring.recordInference(100);
    ring.recordHealth([1, 2], 0.5, 0);
    const metrics = (): Array<Record<string, unknown>> => t.sent.filter((s) => s.topic.endsWith('/metrics')).map((s) => s.body);
    const next = p.renewRing(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(next).not.toBe(ring);
    expect(p.ring).toBe(next);
    expect(next.capacity).toBe(16);
    expect(metrics()).toHaveLength(1);                              // the old model's interval, closed now
    expect(metrics()[0]).toMatchObject({ inferences: 1, health: { gradNorms: { '0.weight': 1, '0.bias': 2 } } });
    next.recordHealth([1, 2, 3, 4, 5, 6], 0, 0);
    ring.recordInference(5);                                        // a late write to the old ring is not reported
    const r = p.flush();
    expect(r.inferences).toBe(0);
    expect(r.health!.gradNorms).toEqual({ '0.weight': 1, '0.bias': 2, '2.weight': 3, '2.bias': 4, '4.weight': 5, '4.bias': 6 });
    await p.stop(10);
    await outbox.close();
  });
});
