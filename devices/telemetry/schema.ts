// The wire format of edgenn telemetry, version 1 (SCHEMA.md documents every field): the record
// types, the header every record carries, and the framing of records inside the outbox (including
// the MQTT 5 route a reply keeps with it). Types and small pure codecs only; no I/O.

import { EdgennError } from '../../runtime/errors.js';
import type { TrainingHealth } from './metric-ring.js';
import type { TopicKind } from './topics.js';

export const SCHEMA_VERSION = 1;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Every payload on every edgenn topic starts with these. */
export interface RecordHeader {
  readonly v: number;        // SCHEMA_VERSION
  readonly seq: number;      // per-device, strictly increasing across restarts (seq.ts)
  readonly ts: number;       // epoch ms when the record was made
  readonly device: string;
}

export interface ModelInfo {
  readonly id: string;
  readonly version: string;
  readonly hash: string;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Samples the percentiles were computed from (<= inferences when the ring overflowed). */
  readonly samples: number;
}

export interface MetricsRecord extends RecordHeader {
  readonly intervalMs: number;
  readonly inferences: number;
  readonly latencyUs: LatencySummary | null;
  readonly throughput: number;
  readonly errors: number;
  readonly trainSteps?: number;
  readonly loss?: number;
  readonly accuracy?: number;
  readonly health?: TrainingHealth;
  readonly arenaBytes: number;
  /** which kernels run the models: WebAssembly SIMD, or the TypeScript fallback */
  readonly kernels: 'wasm' | 'js';
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly load: readonly [number, number, number];
  readonly cpuTempC: number | null;
  readonly model: ModelInfo;
  readonly agent: string;
  readonly uptimeS: number;
  readonly outboxDepth: number;
  readonly dropped: number;
}

export interface StatusRecord extends RecordHeader {
  readonly state: 'online' | 'offline';
  /** The seq reserved for the Last Will of the connection this status belongs to; orders status
   * records (see fleet-merge.ts): a will is made before its connection's "online". */
  readonly conn: number;
  readonly reason?: 'will' | 'shutdown';
  readonly model?: ModelInfo;
  readonly agent?: string;
}

export interface EventRecord extends RecordHeader {
  readonly type: string;
  readonly data?: JsonValue;
}

export interface ReplyRecord extends RecordHeader {
  /** The id of the cmd this answers. */
  readonly id: string;
  readonly ok: boolean;
  readonly data?: JsonValue;
  readonly error?: string;
}

/** Kinds that travel through the outbox (history: at-least-once, de-duplicated by seq). Status is
 * state, published directly and retained. */
export type OutboxKind = 'metrics' | 'events' | 'reply';

const KIND_CODE: Record<OutboxKind, number> = { metrics: 1, events: 2, reply: 3 };
const CODE_KIND: readonly (OutboxKind | undefined)[] = [undefined, 'metrics', 'events', 'reply'];
/** A reply that carries the MQTT 5 route of its cmd (response topic and/or correlation data). */
const ROUTED_REPLY_CODE = 4;
const HAS_TOPIC = 1, HAS_CORRELATION = 2;

/** How a reply is published: the MQTT 5 properties of the cmd it answers (publisher.ts checks the
 * topic before it gets here). Absent on 3.1.1, where the payload `id` alone correlates. */
export interface ReplyRoute {
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
}

/** Each is a u16 on disk, as in an MQTT packet. */
export const MAX_ROUTE_FIELD_BYTES = 0xffff;

export interface OutboxPayload {
  readonly kind: OutboxKind;
  /** The record's JSON: exactly the bytes published. */
  readonly body: Buffer;
  /** Replies only, when the cmd came with MQTT 5 properties. */
  readonly route?: ReplyRoute;
}

/** Outbox payload: one kind byte, then the record's JSON in UTF-8 (exactly what is published).
 * A reply with a route is kind byte 4, a flags byte (1: topic, 2: correlation data), each present
 * field as u16 LE length + bytes, then the JSON; a reply without one stays kind 3, so outboxes
 * written before routes existed read the same. */
export function encodeOutboxPayload(kind: OutboxKind, json: string, route?: ReplyRoute): Buffer {
  const body = Buffer.from(json, 'utf8');
  const topic = route?.responseTopic !== undefined ? Buffer.from(route.responseTopic, 'utf8') : null;
  const corr = route?.correlationData ?? null;
  if (kind !== 'reply' || (topic === null && corr === null)) {
    const out = Buffer.allocUnsafe(body.length + 1);
    out[0] = KIND_CODE[kind];
    body.copy(out, 1);
    return out;
  }
  for (const [what, f] of [['responseTopic', topic], ['correlationData', corr]] as const) {
    if (f !== null && f.length > MAX_ROUTE_FIELD_BYTES) {
      throw new EdgennError('LIMIT', `reply ${what} too long for the outbox`, { expected: `<= ${MAX_ROUTE_FIELD_BYTES} bytes`, actual: `${f.length} bytes` });
    }
  }
  const n = 2 + (topic !== null ? 2 + topic.length : 0) + (corr !== null ? 2 + corr.length : 0);
  const out = Buffer.allocUnsafe(n + body.length);
  out[0] = ROUTED_REPLY_CODE;
  out[1] = (topic !== null ? HAS_TOPIC : 0) | (corr !== null ? HAS_CORRELATION : 0);
  let p = 2;
  for (const f of [topic, corr]) {
    if (f === null) continue;
    out.writeUInt16LE(f.length, p);
    f.copy(out, p + 2);
    p += 2 + f.length;
  }
  body.copy(out, p);
  return out;
}

/** Inverse of encodeOutboxPayload; null for a payload this code did not write. */
export function decodeOutboxPayload(p: Buffer): OutboxPayload | null {
  if (p.length === 0) return null;
  if (p[0] !== ROUTED_REPLY_CODE) {
    const kind = CODE_KIND[p[0]!];
    return kind === undefined ? null : { kind, body: p.subarray(1) };
  }
  if (p.length < 2) return null;
  const flags = p[1]!;
  if ((flags & ~(HAS_TOPIC | HAS_CORRELATION)) !== 0 || flags === 0) return null;
  let at = 2;
  const field = (): Buffer | null => {
    if (at + 2 > p.length) return null;
    const len = p.readUInt16LE(at);
    if (at + 2 + len > p.length) return null;
    const f = p.subarray(at + 2, at + 2 + len);
    at += 2 + len;
    return f;
  };
  let responseTopic: string | undefined;
  let correlationData: Buffer | undefined;
  if ((flags & HAS_TOPIC) !== 0) {
    const f = field();
    if (f === null) return null;
    responseTopic = f.toString('utf8');
  }
  if ((flags & HAS_CORRELATION) !== 0) {
    const f = field();
    if (f === null) return null;
    correlationData = Buffer.from(f);
  }
  const route: ReplyRoute = {
    ...(responseTopic !== undefined ? { responseTopic } : {}),
    ...(correlationData !== undefined ? { correlationData } : {}),
  };
  return { kind: 'reply', body: p.subarray(at), route };
}

export function isTopicOutboxKind(k: TopicKind): k is OutboxKind {
  return k === 'metrics' || k === 'events' || k === 'reply';
}

/** Parses a received payload and checks the header; null if it is not a v1 edgenn record. */
export function parseRecord(payload: Buffer | string): (RecordHeader & Record<string, unknown>) | null {
  let r: unknown;
  try {
    r = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return null;
  const h = r as Record<string, unknown>;
  if (h.v !== SCHEMA_VERSION) return null;
  if (typeof h.seq !== 'number' || !Number.isSafeInteger(h.seq) || h.seq < 1) return null;
  if (typeof h.ts !== 'number' || !Number.isFinite(h.ts)) return null;
  if (typeof h.device !== 'string' || h.device.length === 0) return null;
  return h as RecordHeader & Record<string, unknown>;
}
