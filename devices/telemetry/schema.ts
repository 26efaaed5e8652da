// The wire format of edgenn telemetry, version 1 (SCHEMA.md documents every field): the record
// types, the header every record carries, and the framing of records inside the outbox. Types and
// small pure codecs only; no I/O.

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

/** Outbox payload: one kind byte, then the record's JSON in UTF-8 (exactly what is published). */
export function encodeOutboxPayload(kind: OutboxKind, json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = KIND_CODE[kind];
  body.copy(out, 1);
  return out;
}

export function decodeOutboxPayload(p: Buffer): { kind: OutboxKind; body: Buffer } | null {
  const kind = p.length > 0 ? CODE_KIND[p[0]!] : undefined;
  return kind === undefined ? null : { kind, body: p.subarray(1) };
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
