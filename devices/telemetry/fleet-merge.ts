// Fleet-side view: merges the records of every device of a fleet into one row per device (online
// or offline, model version, p95 latency, last loss, outbox depth, last seen). History records
// (metrics, events, reply) are de-duplicated by (device, seq); status records are state and are
// ordered instead: by (conn, offline-after-online), where conn is the seq of the connection's
// Last Will (see schema.ts), so a stale will from an older connection cannot mark a live device
// offline, and the retained status re-delivered on every subscribe changes nothing.
// It is not the CLI table (that renders devices()) and does not persist anything.

import { SeqDedupe } from './dedupe.js';
import { parseRecord, type RecordHeader } from './schema.js';
import { fleetFilter, parseTopic, type TopicKind } from './topics.js';
import type { Transport } from './mqtt-transport.js';

export interface DeviceView {
  readonly device: string;
  /** From the status topic; null until a status record arrives. */
  online: boolean | null;
  modelVersion: string | null;
  p95Us: number | null;
  lastLoss: number | null;
  outboxDepth: number | null;
  /** Receive time (epoch ms, this side's clock) of the latest accepted record. */
  lastSeen: number;
  /** Highest history seq accepted. */
  lastSeq: number;
  /** Sum of `dropped` over accepted metrics records: records the device had to give up. */
  dropped: number;
}

export type IngestResult = 'accepted' | 'duplicate' | 'stale' | 'invalid' | 'foreign';

export interface MergeCounts {
  received: number;
  accepted: number;
  duplicates: number;
  stale: number;
  invalid: number;
}

export interface IngestedRecord {
  readonly device: string;
  readonly kind: TopicKind;
  readonly record: RecordHeader & Record<string, unknown>;
}

interface StatusKey { conn: number; rank: number }

export class FleetMerge {
  readonly fleet: string;
  readonly counts: MergeCounts = { received: 0, accepted: 0, duplicates: 0, stale: 0, invalid: 0 };
  private readonly dedupe: SeqDedupe;
  private readonly views = new Map<string, DeviceView>();
  private readonly statusKeys = new Map<string, StatusKey>();
  private readonly recordCbs: Array<(r: IngestedRecord) => void> = [];
  private readonly now: () => number;

  constructor(fleet: string, opts: { dedupeWindow?: number; now?: () => number } = {}) {
    this.fleet = fleet;
    this.dedupe = new SeqDedupe(opts.dedupeWindow ?? 4096);
    this.now = opts.now ?? Date.now;
  }

  /** Called for every accepted record (after de-duplication), in arrival order. */
  onRecord(cb: (r: IngestedRecord) => void): void {
    this.recordCbs.push(cb);
  }

  private view(device: string): DeviceView {
    let v = this.views.get(device);
    if (v === undefined) {
      v = { device, online: null, modelVersion: null, p95Us: null, lastLoss: null, outboxDepth: null, lastSeen: 0, lastSeq: 0, dropped: 0 };
      this.views.set(device, v);
    }
    return v;
  }

  /** Feeds one received MQTT message. Pure apart from this object's state; never throws. */
  ingest(topic: string, payload: Buffer | string): IngestResult {
    const t = parseTopic(topic);
    if (t === null || t.fleet !== this.fleet || t.kind === 'cmd') return 'foreign';
    this.counts.received++;
    const r = parseRecord(payload);
    if (r === null || r.device !== t.device) { this.counts.invalid++; return 'invalid'; }
    if (t.kind === 'status') return this.ingestStatus(t.device, r);
    const verdict = this.dedupe.check(t.device, r.seq);
    if (verdict === 'duplicate') { this.counts.duplicates++; return 'duplicate'; }
    if (verdict === 'stale') { this.counts.stale++; return 'stale'; }
    this.counts.accepted++;
    const v = this.view(t.device);
    v.lastSeen = this.now();
    if (r.seq > v.lastSeq) v.lastSeq = r.seq;
    if (t.kind === 'metrics') {
      const lat = r.latencyUs as { p95?: unknown } | null | undefined;
      if (lat !== null && lat !== undefined && typeof lat.p95 === 'number') v.p95Us = lat.p95;
      if (typeof r.loss === 'number') v.lastLoss = r.loss;
      if (typeof r.outboxDepth === 'number') v.outboxDepth = r.outboxDepth;
      if (typeof r.dropped === 'number') v.dropped += r.dropped;
      const m = r.model as { version?: unknown } | undefined;
      if (m !== undefined && typeof m.version === 'string') v.modelVersion = m.version;
    }
    for (const cb of this.recordCbs) cb({ device: t.device, kind: t.kind, record: r });
    return 'accepted';
  }

  private ingestStatus(device: string, r: RecordHeader & Record<string, unknown>): IngestResult {
    if ((r.state !== 'online' && r.state !== 'offline') || typeof r.conn !== 'number') {
      this.counts.invalid++;
      return 'invalid';
    }
    const key: StatusKey = { conn: r.conn, rank: r.state === 'offline' ? 1 : 0 };
    const prev = this.statusKeys.get(device);
    if (prev !== undefined && (key.conn < prev.conn || (key.conn === prev.conn && key.rank <= prev.rank))) {
      this.counts.duplicates++;
      return 'duplicate';
    }
    this.statusKeys.set(device, key);
    this.counts.accepted++;
    const v = this.view(device);
    v.online = r.state === 'online';
    v.lastSeen = this.now();
    const m = r.model as { version?: unknown } | undefined;
    if (m !== undefined && typeof m.version === 'string') v.modelVersion = m.version;
    for (const cb of this.recordCbs) cb({ device, kind: 'status', record: r });
    return 'accepted';
  }

  devices(): DeviceView[] {
    return [...this.views.values()].sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
  }
}

/** Subscribes a transport to the fleet's topics (QoS 1) and feeds every message to merge. */
export function attachFleetMerge(transport: Transport, merge: FleetMerge): Promise<void> {
  transport.onMessage((topic, payload) => { merge.ingest(topic, payload); });
  return transport.subscribe(fleetFilter(merge.fleet), 1);
}
