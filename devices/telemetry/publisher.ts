// The device side of telemetry: a timer turns the metric ring into one metrics record per report
// interval, appends it (and any events/replies) to the durable outbox, and drains the outbox
// through the transport with QoS 1 and a bounded in-flight window. A record leaves the outbox only
// when its PUBACK arrives; after a reconnect everything un-acknowledged is sent again, in order
// (at-least-once; the fleet de-duplicates by (device, seq)). It also keeps the retained status
// topic right: "online" at every connect, "offline" by the Last Will or on a clean stop.
//
// Replies are correlated two ways. Always: the reply payload carries the cmd's `id`. On MQTT 5,
// also by the cmd's own properties: the reply echoes its correlation data, and is published on its
// response topic when that topic lies under this device's prefix edgenn/<fleet>/<device>/ (and is
// not one of its metrics/status/events/cmd topics), else on the standard reply topic. The broker
// ACL lets a device write only under its own topics, so any other response topic could never be
// delivered; and a response topic the broker still refuses (PUBACK "Not authorized") falls back
// to the standard reply topic, so a requester cannot wedge the outbox with one. The route is kept
// with the reply record in the outbox (schema.ts), so a reply sent after a restart is still
// routed and correlated.
//
// It is not the agent: model serving, fine-tuning and updates call into it (ring, event, reply,
// onCommand). start-telemetry.ts wires the parts and the MQTT transport from one config.

import { wasmSimdSupported } from '../../runtime/wasm/kernels.js';
import { performance } from 'node:perf_hooks';
import { EdgennError } from '../../runtime/errors.js';
import { LatencyStats, MetricRing } from './metric-ring.js';
import type { Outbox } from './outbox.js';
import {
  SCHEMA_VERSION, decodeOutboxPayload, encodeOutboxPayload,
  type EventRecord, type JsonValue, type MetricsRecord, type ModelInfo, type OutboxKind,
  type ReplyRecord, type ReplyRoute, type StatusRecord, MAX_ROUTE_FIELD_BYTES,
} from './schema.js';
import { SeqCounter } from './seq.js';
import { collectSystemMetrics, type SystemMetrics } from './system-metrics.js';
import { deviceTopics, type DeviceTopics } from './topics.js';
import type { MessageProperties, Transport, WillMessage } from './mqtt-transport.js';

/** Models compile with kernels 'auto': WebAssembly SIMD where the engine has it (runtime/wasm). */
const KERNELS: 'wasm' | 'js' = wasmSimdSupported() ? 'wasm' : 'js';

/** The Last Will of each connection attempt, and the conn number its "online" status must carry. */
export interface StatusWill {
  /** Makes the will for the next connection attempt (reserves a fresh seq). */
  readonly make: () => WillMessage;
  /** The seq of the last will made: the `conn` of the current connection; 0 before any. */
  readonly conn: () => number;
}

export function createStatusWill(
  topics: DeviceTopics, device: string, seq: SeqCounter, now: () => number = Date.now,
): StatusWill {
  let last = 0;
  return {
    make: (): WillMessage => {
      const s = seq.next();
      last = s;
      const rec: StatusRecord = { v: SCHEMA_VERSION, seq: s, ts: now(), device, state: 'offline', conn: s, reason: 'will' };
      return { topic: topics.status, payload: JSON.stringify(rec), qos: 1, retain: true };
    },
    conn: () => last,
  };
}

export interface CommandMessage {
  readonly id: string;
  readonly cmd: string;
  readonly args?: JsonValue;
  /** The whole parsed payload. */
  readonly raw: Record<string, unknown>;
  /** The cmd's MQTT 5 response topic / correlation data ({} on 3.1.1): pass it to reply(). */
  readonly route: ReplyRoute;
}

export interface PublisherOptions {
  readonly fleet: string;
  readonly device: string;
  readonly transport: Transport;
  readonly outbox: Outbox;
  readonly seq: SeqCounter;
  readonly ring: MetricRing;
  readonly model: () => ModelInfo;
  readonly agentVersion: string;
  /** Default 10 000 ms. */
  readonly reportIntervalMs?: number;
  /** QoS 1 messages awaiting PUBACK at once. Default 10 (below mosquitto's default receive
   * maximum of 20, which it enforces by dropping or refusing with "Quota exceeded"). */
  readonly inflightWindow?: number;
  /** Pass the same object the transport got its `will` from, so "online" carries its conn. */
  readonly will?: StatusWill;
  readonly arenaBytes?: () => number;
  readonly system?: () => SystemMetrics;
  readonly now?: () => number;
  /** Pause before re-sending after the broker refused a publish (while still connected). */
  readonly retryMs?: number;
  /** Called after each record is in the outbox (diagnostics, tests). */
  readonly onAppend?: (kind: OutboxKind, seq: number) => void;
  readonly log?: (line: string) => void;
}

export interface PublisherStats {
  appended: number;
  acked: number;
  publishes: number;     // publish calls, re-sends included
  refused: number;       // publishes the broker answered with an error while connected
  appendErrors: number;  // records lost because the outbox could not be written
  maxInflight: number;   // highest number of un-PUBACKed publishes seen at once
}

export class Publisher {
  readonly topics: DeviceTopics;
  readonly stats: PublisherStats = { appended: 0, acked: 0, publishes: 0, refused: 0, appendErrors: 0, maxInflight: 0 };
  private readonly o: PublisherOptions;
  private readonly window: number;
  private readonly latency: LatencyStats;
  private readonly now: () => number;
  private lastFlushAt = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private inflight = 0;
  private gen = 0;           // connection generation: callbacks of an older connection are ignored
  private lostAppends = 0;   // reported as dropped in the next metrics record
  private stopping = false;
  private readonly cmdCbs: Array<(c: CommandMessage) => void> = [];
  /** Outbox ids of replies whose response topic the broker refused: re-sent on topics.reply. */
  private readonly routeRefused = new Set<number>();
  private readonly prefix: string;
  private currentRing: MetricRing;
  private readonly drainWaiters: Array<() => void> = [];

  constructor(opts: PublisherOptions) {
    this.o = opts;
    this.topics = deviceTopics(opts.fleet, opts.device);
    this.prefix = this.topics.reply.slice(0, this.topics.reply.length - 'reply'.length);
    this.window = opts.inflightWindow ?? 10;
    if (!Number.isInteger(this.window) || this.window < 1) {
      throw new EdgennError('ARG', 'inflightWindow must be a positive integer', { actual: String(opts.inflightWindow) });
    }
    const interval = opts.reportIntervalMs ?? 10_000;
    if (!(interval >= 1)) throw new EdgennError('ARG', 'reportIntervalMs must be >= 1', { actual: String(interval) });
    this.latency = new LatencyStats(opts.ring.capacity);
    this.currentRing = opts.ring;
    this.now = opts.now ?? Date.now;

    const t = opts.transport;
    t.onConnect(() => {
      this.gen++;
      this.inflight = 0;
      this.o.outbox.rewind();
      this.publishStatus('online');
      this.drain();
    });
    t.onClose(() => {
      this.gen++;
      this.inflight = 0;
    });
    t.onMessage((topic, payload, props) => this.handleMessage(topic, payload, props));
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  /** Starts the report timer and the transport. */
  start(): void {
    if (this.timer !== null) return;
    void this.o.transport.subscribe(this.topics.cmd, 1).catch((e: Error) => this.log(`subscribe cmd: ${e.message}`));
    this.timer = setInterval(() => this.flush(), this.o.reportIntervalMs ?? 10_000);
    this.o.transport.start();
  }

  /** The ring the next metrics record is taken from (opts.ring until renewRing()). */
  get ring(): MetricRing {
    return this.currentRing;
  }

  /** The served model changed. Closes the current interval on the old ring (one metrics record,
   * made now: call this while model() still names the old model, so what was measured on it is
   * reported under its model info and its layer names), then switches to a fresh ring of the same
   * capacity whose gradient norms are named `layerNames`, the new model's. Returns it: inference
   * and fine-tuning of the new model must record into it. Allocates; never on the hot path. */
  renewRing(layerNames: readonly string[]): MetricRing {
    this.flush();
    this.currentRing = new MetricRing({ capacity: this.currentRing.capacity, layerNames: [...layerNames] });
    return this.currentRing;
  }

  onCommand(cb: (c: CommandMessage) => void): void {
    this.cmdCbs.push(cb);
  }

  private handleMessage(topic: string, payload: Buffer, props: MessageProperties): void {
    if (topic !== this.topics.cmd) return;
    let raw: unknown;
    try { raw = JSON.parse(payload.toString('utf8')); } catch { raw = null; }
    const r = raw as Record<string, unknown> | null;
    if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.cmd !== 'string') {
      this.log('ignored malformed cmd payload');
      return;
    }
    const msg: CommandMessage = r.args !== undefined
      ? { id: r.id, cmd: r.cmd, args: r.args as JsonValue, raw: r, route: props }
      : { id: r.id, cmd: r.cmd, raw: r, route: props };
    for (const cb of this.cmdCbs) cb(msg);
  }

  private publishStatus(state: 'online' | 'offline'): Promise<void> {
    const seq = this.o.seq.next();
    const conn = this.o.will?.conn() ?? seq;
    const base = { v: SCHEMA_VERSION, seq, ts: this.now(), device: this.o.device, conn };
    const rec: StatusRecord = state === 'online'
      ? { ...base, state, model: this.o.model(), agent: this.o.agentVersion }
      : { ...base, state, reason: 'shutdown' };
    return this.o.transport.publish(this.topics.status, JSON.stringify(rec), { qos: 1, retain: true })
      .catch((e: Error) => this.log(`status ${state}: ${e.message}`));
  }

  /** True if a reply may be published on `topic`: a valid topic name (no wildcard, no NUL) under
   * this device's prefix, other than its metrics/status/events/cmd topics (a reply there would be
   * taken for telemetry, or for a command by the device itself). */
  isOwnResponseTopic(topic: string): boolean {
    const t = this.topics;
    return topic.length > this.prefix.length && topic.startsWith(this.prefix)
      && !/[+#\0]/.test(topic)
      && Buffer.byteLength(topic, 'utf8') <= MAX_ROUTE_FIELD_BYTES
      && topic !== t.metrics && topic !== t.status && topic !== t.events && topic !== t.cmd;
  }

  /** The part of a cmd's route that a reply keeps: an own response topic, correlation data. */
  private checkedRoute(route: ReplyRoute | undefined): ReplyRoute | undefined {
    if (route === undefined) return undefined;
    const rt = route.responseTopic;
    const cd = route.correlationData;
    const topicOk = rt !== undefined && this.isOwnResponseTopic(rt);
    if (rt !== undefined && !topicOk) {
      this.log(`response topic ${JSON.stringify(rt.slice(0, 200))} is not under ${this.prefix}: replying on ${this.topics.reply}`);
    }
    const cdOk = cd !== undefined && cd.length <= MAX_ROUTE_FIELD_BYTES;
    if (!topicOk && !cdOk) return undefined;
    return { ...(topicOk ? { responseTopic: rt } : {}), ...(cdOk ? { correlationData: cd } : {}) };
  }

  private append(kind: OutboxKind, json: string, seq: number, route?: ReplyRoute): boolean {
    try {
      let payload = encodeOutboxPayload(kind, json, route);
      if (route !== undefined && payload.length > this.o.outbox.maxRecordBytes) {
        // A reply that would not fit with its route still goes out (the payload id correlates).
        this.log('reply route too large for an outbox record: sending the reply without it');
        payload = encodeOutboxPayload(kind, json);
      }
      this.o.outbox.append(payload);
    } catch (e) {
      // NOTE: a full disk or a failing SD card must not stop the agent; the loss is counted and
      // reported in the next metrics record that does get through.
      this.stats.appendErrors++;
      this.lostAppends++;
      this.log(`outbox append failed: ${(e as Error).message}`);
      return false;
    }
    this.stats.appended++;
    this.o.onAppend?.(kind, seq);
    return true;
  }

  /** Closes the current interval: one metrics record into the outbox, then sync and drain. */
  flush(): MetricsRecord {
    const o = this.o;
    const t = performance.now();
    const intervalMs = t - this.lastFlushAt;
    this.lastFlushAt = t;
    const totals = this.currentRing.takeInterval(this.latency);
    const sys = (o.system ?? collectSystemMetrics)();
    const L = this.latency;
    const dropped = o.outbox.takeDropped() + this.lostAppends;
    this.lostAppends = 0;
    const seq = o.seq.next();
    const rec: MetricsRecord = {
      v: SCHEMA_VERSION, seq, ts: this.now(), device: o.device,
      intervalMs: Math.round(intervalMs),
      inferences: totals.inferences,
      latencyUs: L.count > 0 ? { p50: L.p50, p95: L.p95, p99: L.p99, max: L.max, samples: L.count } : null,
      throughput: intervalMs > 0 ? totals.inferences / (intervalMs / 1000) : 0,
      errors: totals.errors,
      ...(totals.trainSteps > 0 ? { trainSteps: totals.trainSteps } : {}),
      ...(totals.loss !== null ? { loss: totals.loss } : {}),
      ...(totals.accuracy !== null ? { accuracy: totals.accuracy } : {}),
      ...(totals.health !== null ? { health: totals.health } : {}),
      arenaBytes: o.arenaBytes?.() ?? 0,
      kernels: KERNELS,
      rssBytes: sys.rssBytes,
      heapUsedBytes: sys.heapUsedBytes,
      load: sys.load,
      cpuTempC: sys.cpuTempC,
      model: o.model(),
      agent: o.agentVersion,
      uptimeS: Math.round(process.uptime()),
      outboxDepth: o.outbox.depth,
      dropped,
    };
    this.append('metrics', JSON.stringify(rec), seq);
    o.outbox.sync();
    this.drain();
    return rec;
  }

  /** Queues a one-off event (model swapped, update failed, ...); returns its seq. */
  event(type: string, data?: JsonValue): number {
    const seq = this.o.seq.next();
    const rec: EventRecord = data !== undefined
      ? { v: SCHEMA_VERSION, seq, ts: this.now(), device: this.o.device, type, data }
      : { v: SCHEMA_VERSION, seq, ts: this.now(), device: this.o.device, type };
    this.append('events', JSON.stringify(rec), seq);
    this.o.outbox.sync();
    this.drain();
    return seq;
  }

  /** Queues the answer to a cmd; returns its seq. `route`: the cmd's MQTT 5 properties
   * (CommandMessage.route, or what the transport delivered with it); see the header comment. */
  reply(id: string, ok: boolean, data?: JsonValue, error?: string, route?: ReplyRoute): number {
    const seq = this.o.seq.next();
    const rec: ReplyRecord = {
      v: SCHEMA_VERSION, seq, ts: this.now(), device: this.o.device, id, ok,
      ...(data !== undefined ? { data } : {}), ...(error !== undefined ? { error } : {}),
    };
    this.append('reply', JSON.stringify(rec), seq, this.checkedRoute(route));
    this.o.outbox.sync();
    this.drain();
    return seq;
  }

  private drain(): void {
    const o = this.o;
    while (o.transport.connected && this.inflight < this.window && this.retryTimer === null) {
      let rec;
      try {
        rec = o.outbox.next();
      } catch (e) {
        this.log(`outbox read failed: ${(e as Error).message}`);
        return;
      }
      if (rec === null) break;
      const dec = decodeOutboxPayload(rec.payload);
      if (dec === null) {
        // Not written by this code (the frame CRC was fine): drop it rather than block the queue.
        o.outbox.ack(rec.id);
        this.lostAppends++;
        continue;
      }
      const id = rec.id;
      const gen = this.gen;
      // The route applies on MQTT 5 only: on 3.1.1 the requester cannot receive correlation data,
      // and the id-only convention is the standard reply topic.
      const route = dec.route !== undefined && o.transport.protocolVersion === 5 ? dec.route : undefined;
      const rt = route?.responseTopic;
      const topic = rt !== undefined && !this.routeRefused.has(id) && this.isOwnResponseTopic(rt) ? rt : this.topics[dec.kind];
      const cd = route?.correlationData;
      this.inflight++;
      this.stats.publishes++;
      if (this.inflight > this.stats.maxInflight) this.stats.maxInflight = this.inflight;
      o.transport.publish(topic, dec.body, cd !== undefined ? { qos: 1, properties: { correlationData: cd } } : { qos: 1 }).then(() => {
        // A PUBACK is a PUBACK, whatever happened to the connection since: ack it.
        o.outbox.ack(id);
        this.routeRefused.delete(id);
        this.stats.acked++;
        if (gen !== this.gen) return;
        this.inflight--;
        this.drain();
      }, (e: Error) => {
        if (gen !== this.gen) return;
        this.inflight--;
        if (!o.transport.connected) return; // the reconnect rewinds and re-sends
        this.stats.refused++;
        if (topic !== this.topics[dec.kind]) {
          // The ACL (or the broker) will not take this response topic: use the standard one.
          this.routeRefused.add(id);
          this.log(`response topic ${topic} refused (${e.message}): re-sending the reply on ${this.topics[dec.kind]}`);
        } else {
          this.log(`publish refused, retrying: ${e.message}`);
        }
        if (this.retryTimer === null) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            o.outbox.rewind();
            this.drain();
          }, this.o.retryMs ?? 1000);
        }
      });
    }
    if (o.outbox.depth === 0) {
      for (const w of this.drainWaiters.splice(0)) w();
    }
  }

  /** Resolves when the outbox is empty (everything acknowledged) or after timeoutMs; true if empty. */
  waitDrained(timeoutMs: number): Promise<boolean> {
    if (this.o.outbox.depth === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        const i = this.drainWaiters.indexOf(done);
        if (i >= 0) this.drainWaiters.splice(i, 1);
        resolve(this.o.outbox.depth === 0);
      }, timeoutMs);
      const done = (): void => { clearTimeout(t); resolve(true); };
      this.drainWaiters.push(done);
    });
  }

  /** Stops reporting: waits up to drainMs for the outbox to empty, publishes a retained "offline"
   * (a clean disconnect does not fire the Last Will), and ends the transport. Un-sent records stay
   * in the outbox for the next start. Does not close the outbox. */
  async stop(drainMs = 2000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer !== null) { clearInterval(this.timer); this.timer = null; }
    if (this.retryTimer !== null) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    if (this.o.transport.connected) {
      await this.waitDrained(drainMs);
      if (this.o.transport.connected) {
        await Promise.race([this.publishStatus('offline'), new Promise((r) => setTimeout(r, drainMs).unref())]);
      }
    }
    await this.o.transport.end();
  }
}

export interface Telemetry {
  /** The ring being recorded into; replaced by publisher.renewRing() when the model changes. */
  readonly ring: MetricRing;
  readonly publisher: Publisher;
  readonly outbox: Outbox;
  readonly transport: Transport;
  readonly seq: SeqCounter;
  /** Stops the publisher (bounded drain) and closes the outbox durably. */
  stop(drainMs?: number): Promise<void>;
}

/** The handle of a started publisher: `ring` follows publisher.renewRing(); stop() drains the
 * publisher (bounded) and then closes the outbox durably. */
export function telemetryOf(publisher: Publisher, outbox: Outbox, transport: Transport, seq: SeqCounter): Telemetry {
  return {
    get ring() { return publisher.ring; },
    publisher, outbox, transport, seq,
    async stop(drainMs?: number): Promise<void> {
      await publisher.stop(drainMs);
      await outbox.close();
    },
  };
}
