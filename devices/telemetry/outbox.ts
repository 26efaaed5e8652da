// The store-and-forward outbox: a bounded on-disk queue of telemetry records that survives agent
// restarts and kill -9. It is not a database and knows nothing of MQTT or JSON: it stores opaque
// byte payloads in order, hands them out for sending, and forgets them only once acknowledged.
//
// On disk (one directory per device):
//   seg-<id, 16 digits>.log  append-only segment files; a record is framed as
//                            magic u32 | len u32 | crc32 u32 | payload (len bytes), little-endian,
//                            crc over the 4 length bytes and the payload (crc32.ts)
//   cursor.json              {"v":1,"seg":id,"off":byte,"dropped":n}: the first record not yet
//                            acknowledged, replaced atomically (temp + fsync + rename)
//
// Recovery (open): segments before the cursor are deleted; the rest is scanned record by record.
// A frame that fails (bad magic, length out of range or past the end, CRC mismatch) is skipped up
// to the next valid frame, which is found by searching for the magic and re-checking the CRC:
// that is corruption in the middle (counted in `recovery.corruptRecords`, and reported as dropped).
// If no valid frame follows, it is a torn tail (a write cut by kill -9 or power loss): the segment
// is truncated there (`recovery.tornBytes`); nothing before it is lost.
//
// Bound: the total size of all segments never exceeds maxBytes. When an append would go over, the
// oldest whole segments are deleted, and their un-acknowledged records are counted as dropped
// (`takeDropped()`, reported in the next metrics record).
//
// Durability (FsyncPolicy), against power loss; kill -9 alone never loses a written record, since
// every append is a write() into the page cache before append() returns:
//   'append'    fdatasync inside every append: a record is on stable storage when append() returns;
//               costs one flash write + barrier per record and blocks the event loop for it (ms on
//               an SD card), and wears flash fastest.
//   'batch'     (default) fdatasync once per sync() call, which the publisher makes after each
//               report-interval batch; runs on the thread pool, so the event loop never waits.
//               A power cut can lose the last batch that was not yet synced.
//   'interval'  fdatasync at most every `ms` on a timer, whatever the batching; a power cut can lose
//               up to `ms` of records; the cheapest for high-rate events.
// The ack cursor is saved at most every cursorSaveMs (default 1000): a crash re-sends records that
// were acknowledged after the last save. That is a duplicate, which the fleet removes by
// (device, seq) (dedupe.ts), never a loss.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { crc32Update } from '../../runtime/crc32.js';
import { writeFileAtomic, writeFileAtomicSync } from '../../runtime/train/atomic-write.js';

export const OUTBOX_MAGIC = 0x314e4e45; // 'ENN1' read as little-endian bytes 45 4e 4e 31
export const FRAME_HEADER_BYTES = 12;
const CURSOR_FILE = 'cursor.json';
const SEG_RE = /^seg-(\d{16})\.log$/;

export type FsyncPolicy =
  | { readonly mode: 'append' }
  | { readonly mode: 'batch' }
  | { readonly mode: 'interval'; readonly ms: number };

export interface OutboxOptions {
  readonly dir: string;
  /** Upper bound on the bytes of all segment files. Default 8 MiB. */
  readonly maxBytes?: number;
  /** Size at which a new segment is started; at most maxBytes / 2. Default min(1 MiB, maxBytes / 4). */
  readonly segmentBytes?: number;
  readonly fsync?: FsyncPolicy;
  /** Largest payload accepted. Default min(64 KiB, segmentBytes - 12). */
  readonly maxRecordBytes?: number;
  readonly cursorSaveMs?: number;
}

export interface OutboxRecovery {
  /** Un-acknowledged records found on open. */
  readonly records: number;
  readonly segments: number;
  /** Bytes cut off the end of the last segment (a torn last record). */
  readonly tornBytes: number;
  /** Damaged frames skipped in the middle (each followed by a valid frame). */
  readonly corruptRecords: number;
  readonly corruptBytes: number;
}

export interface OutboxRecord {
  readonly id: number;
  readonly payload: Buffer;
}

interface Segment {
  readonly id: number;
  readonly file: string;
  fd: number;
  size: number;
  dirty: boolean;       // written since its last fdatasync
  syncing: boolean;     // an fdatasync is running on the thread pool
  closeAfterSync: boolean;
}

interface Entry {
  readonly id: number;
  readonly seg: Segment;
  readonly off: number; // frame start within the segment
  readonly len: number; // payload bytes
  acked: boolean;
}

interface CursorFile { v: number; seg: number; off: number; dropped: number }

function segName(id: number): string {
  return `seg-${String(id).padStart(16, '0')}.log`;
}

/** True if a complete, checksummed frame starts at p. */
function frameAt(buf: Buffer, p: number, n: number, maxRecordBytes: number): number {
  if (p + FRAME_HEADER_BYTES > n) return -1;
  if (buf.readUInt32LE(p) !== OUTBOX_MAGIC) return -1;
  const len = buf.readUInt32LE(p + 4);
  if (len > maxRecordBytes || p + FRAME_HEADER_BYTES + len > n) return -1;
  let c = crc32Update(0, buf, p + 4, p + 8);
  c = crc32Update(c, buf, p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + len);
  return c === buf.readUInt32LE(p + 8) ? len : -1;
}

export interface SegmentScan {
  /** Valid frames: start offset and payload length. */
  readonly frames: Array<{ off: number; len: number }>;
  readonly corrupt: Array<{ off: number; bytes: number }>;
  /** End of the last valid frame when the segment ends in a torn frame, else buf length. */
  readonly validEnd: number;
  readonly tornBytes: number;
}

/** Scans buf[start, end) for frames; pure, used by recovery and by scanOutbox. */
export function scanSegment(buf: Buffer, start: number, maxRecordBytes: number): SegmentScan {
  const n = buf.length;
  const frames: Array<{ off: number; len: number }> = [];
  const corrupt: Array<{ off: number; bytes: number }> = [];
  let p = start;
  while (p < n) {
    const len = frameAt(buf, p, n, maxRecordBytes);
    if (len >= 0) {
      frames.push({ off: p, len });
      p += FRAME_HEADER_BYTES + len;
      continue;
    }
    let q = p + 1;
    for (; q + FRAME_HEADER_BYTES <= n; q++) {
      if (buf.readUInt32LE(q) === OUTBOX_MAGIC && frameAt(buf, q, n, maxRecordBytes) >= 0) break;
    }
    if (q + FRAME_HEADER_BYTES > n) return { frames, corrupt, validEnd: p, tornBytes: n - p };
    corrupt.push({ off: p, bytes: q - p });
    p = q;
  }
  return { frames, corrupt, validEnd: n, tornBytes: 0 };
}

function readCursor(dir: string): CursorFile | null {
  const file = path.join(dir, CURSOR_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new EdgennError('IO', `cannot read outbox cursor: ${(e as Error).message}`, { file });
  }
  let p: Partial<CursorFile> | null = null;
  try { p = JSON.parse(text) as Partial<CursorFile>; } catch { p = null; }
  if (p === null || p.v !== 1 || !Number.isSafeInteger(p.seg) || !Number.isSafeInteger(p.off)
      || !Number.isSafeInteger(p.dropped)) {
    throw new EdgennError('DATA', 'outbox cursor is malformed', {
      file, expected: '{"v":1,"seg":int,"off":int,"dropped":int}', actual: text.slice(0, 80),
    });
  }
  return p as CursorFile;
}

function listSegments(dir: string): number[] {
  const ids: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = SEG_RE.exec(name);
    if (m !== null) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
}

export interface OutboxDump {
  readonly cursor: { seg: number; off: number; dropped: number } | null;
  /** Payloads of the records from the saved cursor on, in order (may include records that were
   * acknowledged after the cursor was last saved). */
  readonly payloads: Buffer[];
  readonly corruptRecords: number;
  readonly tornBytes: number;
}

/** Reads an outbox directory without changing it (no truncation, no deletion): for diagnostics
 * and tests, e.g. after the owning process was killed. */
export function scanOutbox(dir: string, maxRecordBytes = 64 * 1024): OutboxDump {
  const cursor = readCursor(dir);
  const payloads: Buffer[] = [];
  let corruptRecords = 0;
  let tornBytes = 0;
  for (const id of listSegments(dir)) {
    if (cursor !== null && id < cursor.seg) continue;
    const buf = fs.readFileSync(path.join(dir, segName(id)));
    const start = cursor !== null && id === cursor.seg ? Math.min(cursor.off, buf.length) : 0;
    const s = scanSegment(buf, start, maxRecordBytes);
    for (const f of s.frames) {
      payloads.push(Buffer.from(buf.subarray(f.off + FRAME_HEADER_BYTES, f.off + FRAME_HEADER_BYTES + f.len)));
    }
    corruptRecords += s.corrupt.length;
    tornBytes += s.tornBytes;
  }
  return { cursor, payloads, corruptRecords, tornBytes };
}

export class Outbox {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly maxRecordBytes: number;
  readonly fsyncPolicy: FsyncPolicy;
  /** The last error of a background fdatasync or cursor save (they never throw into callers). */
  lastBackgroundError: Error | null = null;

  private readonly cursorSaveMs: number;
  private readonly segments: Segment[] = [];
  private readonly entries: Entry[] = []; // un-acked records in order; live part is [head, length)
  private head = 0;
  private sendPos = 0;                    // entries[head + sendPos] is the next one to hand out
  private nextId = 1;
  private totalBytes = 0;
  private dropped = 0;                    // dropped and not yet reported
  private cursorTimer: NodeJS.Timeout | null = null;
  private intervalTimer: NodeJS.Timeout | null = null;
  private saving: Promise<void> | null = null;
  private saveAgain = false;
  private readonly syncs = new Set<Promise<void>>();
  private closed = false;
  private unacked = 0;
  private rec: OutboxRecovery = { records: 0, segments: 0, tornBytes: 0, corruptRecords: 0, corruptBytes: 0 };

  private constructor(opts: OutboxOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
    this.segmentBytes = opts.segmentBytes ?? Math.min(1024 * 1024, Math.floor(this.maxBytes / 4));
    this.maxRecordBytes = opts.maxRecordBytes ?? Math.min(64 * 1024, this.segmentBytes - FRAME_HEADER_BYTES);
    this.fsyncPolicy = opts.fsync ?? { mode: 'batch' };
    this.cursorSaveMs = opts.cursorSaveMs ?? 1000;
  }

  /** What open() found and repaired. */
  get recovery(): OutboxRecovery {
    return this.rec;
  }

  /** Opens (creating if needed) and recovers the outbox in opts.dir. Synchronous: start-up only. */
  static open(opts: OutboxOptions): Outbox {
    const ob = new Outbox(opts);
    if (ob.segmentBytes < FRAME_HEADER_BYTES + 1 || ob.segmentBytes * 2 > ob.maxBytes) {
      throw new EdgennError('ARG', 'outbox segmentBytes must be at least 13 and at most maxBytes / 2', {
        file: opts.dir, expected: `<= ${Math.floor(ob.maxBytes / 2)}`, actual: String(ob.segmentBytes),
      });
    }
    if (ob.maxRecordBytes + FRAME_HEADER_BYTES > ob.segmentBytes) {
      throw new EdgennError('ARG', 'outbox maxRecordBytes must fit in a segment', {
        file: opts.dir, expected: `<= ${ob.segmentBytes - FRAME_HEADER_BYTES}`, actual: String(ob.maxRecordBytes),
      });
    }
    const p = ob.fsyncPolicy;
    if (p.mode === 'interval' && !(p.ms > 0)) {
      throw new EdgennError('ARG', 'outbox fsync interval must be > 0 ms', { file: opts.dir, actual: String(p.ms) });
    }
    try {
      fs.mkdirSync(opts.dir, { recursive: true });
      ob.recover();
    } catch (e) {
      ob.closeFdsSync();
      if (e instanceof EdgennError) throw e;
      throw new EdgennError('IO', `cannot open outbox: ${(e as Error).message}`, { file: opts.dir });
    }
    if (p.mode === 'interval') {
      ob.intervalTimer = setInterval(() => ob.syncDirty(), p.ms);
      ob.intervalTimer.unref();
    }
    return ob;
  }

  private recover(): void {
    const cursor = readCursor(this.dir);
    const ids = listSegments(this.dir);
    let tornBytes = 0;
    let corruptRecords = 0;
    let corruptBytes = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const file = path.join(this.dir, segName(id));
      if (cursor !== null && id < cursor.seg) {
        fs.unlinkSync(file); // fully acknowledged; left over from a crash before its deletion
        continue;
      }
      const buf = fs.readFileSync(file);
      const start = cursor !== null && id === cursor.seg ? Math.min(cursor.off, buf.length) : 0;
      const s = scanSegment(buf, start, this.maxRecordBytes);
      const last = i === ids.length - 1;
      let size = buf.length;
      if (s.tornBytes > 0) {
        if (last) {
          fs.truncateSync(file, s.validEnd);
          size = s.validEnd;
          tornBytes += s.tornBytes;
        } else {
          // Damage at the end of an older segment cannot be a torn append (later segments were
          // written after it): count it as corruption.
          corruptRecords += 1;
          corruptBytes += s.tornBytes;
        }
      }
      corruptRecords += s.corrupt.length;
      for (const c of s.corrupt) corruptBytes += c.bytes;
      const seg: Segment = {
        id, file, fd: fs.openSync(file, 'a+'), size, dirty: false, syncing: false, closeAfterSync: false,
      };
      this.segments.push(seg);
      this.totalBytes += size;
      for (const f of s.frames) {
        this.entries.push({ id: this.nextId++, seg, off: f.off, len: f.len, acked: false });
      }
    }
    if (this.segments.length === 0) this.addSegment(cursor !== null ? cursor.seg + 1 : 1);
    this.dropped = (cursor !== null ? cursor.dropped : 0) + corruptRecords;
    this.unacked = this.entries.length;
    this.rec = {
      records: this.entries.length, segments: this.segments.length, tornBytes, corruptRecords, corruptBytes,
    };
    if (corruptRecords > 0 || tornBytes > 0) this.saveCursorSoon();
  }

  private addSegment(id: number): Segment {
    const file = path.join(this.dir, segName(id));
    const seg: Segment = {
      id, file, fd: fs.openSync(file, 'a+'), size: 0, dirty: false, syncing: false, closeAfterSync: false,
    };
    this.segments.push(seg);
    return seg;
  }

  private checkOpen(): void {
    if (this.closed) throw new EdgennError('STATE', 'outbox is closed', { file: this.dir });
  }

  /** Appends one record; returns its id. The write reaches the OS before this returns. */
  append(payload: Uint8Array): number {
    this.checkOpen();
    if (payload.length > this.maxRecordBytes) {
      throw new EdgennError('LIMIT', 'outbox record too large', {
        file: this.dir, expected: `<= ${this.maxRecordBytes} bytes`, actual: `${payload.length} bytes`,
      });
    }
    const frameBytes = FRAME_HEADER_BYTES + payload.length;
    let seg = this.segments[this.segments.length - 1]!;
    if (seg.size > 0 && seg.size + frameBytes > this.segmentBytes) {
      seg = this.addSegment(seg.id + 1);
    }
    while (this.totalBytes + frameBytes > this.maxBytes && this.segments.length > 1) this.dropOldestSegment();

    const frame = Buffer.allocUnsafe(frameBytes);
    frame.writeUInt32LE(OUTBOX_MAGIC, 0);
    frame.writeUInt32LE(payload.length, 4);
    frame.set(payload, FRAME_HEADER_BYTES);
    let c = crc32Update(0, frame, 4, 8);
    c = crc32Update(c, frame, FRAME_HEADER_BYTES, frameBytes);
    frame.writeUInt32LE(c, 8);
    const off = seg.size;
    try {
      let w = 0;
      while (w < frameBytes) w += fs.writeSync(seg.fd, frame, w, frameBytes - w, off + w);
      if (this.fsyncPolicy.mode === 'append') fs.fdatasyncSync(seg.fd);
      else seg.dirty = true;
    } catch (e) {
      throw new EdgennError('IO', `outbox append failed: ${(e as Error).message}`, { file: seg.file });
    }
    seg.size += frameBytes;
    this.totalBytes += frameBytes;
    const id = this.nextId++;
    this.entries.push({ id, seg, off, len: payload.length, acked: false });
    this.unacked++;
    return id;
  }

  private dropOldestSegment(): void {
    const seg = this.segments.shift()!;
    let removed = 0;
    while (this.head < this.entries.length && this.entries[this.head]!.seg === seg) {
      if (!this.entries[this.head]!.acked) { this.dropped++; this.unacked--; }
      this.head++;
      removed++;
    }
    this.sendPos = Math.max(0, this.sendPos - removed);
    this.totalBytes -= seg.size;
    this.deleteSegmentFile(seg);
    this.compact();
    this.saveCursorSoon();
  }

  private deleteSegmentFile(seg: Segment): void {
    try { fs.unlinkSync(seg.file); } catch (e) { this.lastBackgroundError = e as Error; }
    if (seg.syncing) seg.closeAfterSync = true;
    else { fs.closeSync(seg.fd); seg.fd = -1; }
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }

  /** A batch boundary: under the 'batch' policy, starts an fdatasync of what was appended. */
  sync(): void {
    if (this.fsyncPolicy.mode === 'batch') this.syncDirty();
  }

  private syncDirty(): void {
    for (const seg of this.segments) {
      if (!seg.dirty || seg.syncing || seg.fd < 0) continue;
      seg.dirty = false;
      seg.syncing = true;
      const p = new Promise<void>((resolve) => {
        fs.fdatasync(seg.fd, (err) => {
          seg.syncing = false;
          if (err !== null) { this.lastBackgroundError = err; seg.dirty = true; }
          if (seg.closeAfterSync) { fs.close(seg.fd, () => undefined); seg.fd = -1; }
          resolve();
        });
      });
      this.syncs.add(p);
      void p.then(() => this.syncs.delete(p));
    }
  }

  /** The next record not yet handed out (in order), or null. Reads the payload from disk. */
  next(): OutboxRecord | null {
    this.checkOpen();
    while (this.head + this.sendPos < this.entries.length) {
      const e = this.entries[this.head + this.sendPos]!;
      this.sendPos++;
      if (e.acked) continue;
      const payload = Buffer.allocUnsafe(e.len);
      try {
        let r = 0;
        while (r < e.len) {
          const got = fs.readSync(e.seg.fd, payload, r, e.len - r, e.off + FRAME_HEADER_BYTES + r);
          if (got === 0) throw new Error('unexpected end of segment');
          r += got;
        }
      } catch (err) {
        throw new EdgennError('IO', `outbox read failed: ${(err as Error).message}`, { file: e.seg.file });
      }
      return { id: e.id, payload };
    }
    return null;
  }

  /** Marks a record delivered. Unknown ids (already acked, or dropped by the bound) are ignored.
   * The durable cursor moves over the acknowledged prefix only, so out-of-order acks are safe. */
  ack(id: number): void {
    if (this.closed || this.head >= this.entries.length) return;
    const i = this.head + (id - this.entries[this.head]!.id);
    if (i < this.head || i >= this.entries.length) return;
    const e = this.entries[i]!;
    if (e.acked) return;
    e.acked = true;
    this.unacked--;
    let moved = false;
    while (this.head < this.entries.length && this.entries[this.head]!.acked) {
      this.head++;
      this.sendPos = Math.max(0, this.sendPos - 1);
      moved = true;
    }
    if (!moved) return;
    const active = this.segments[this.segments.length - 1]!;
    const frontSeg = this.head < this.entries.length ? this.entries[this.head]!.seg.id : active.id;
    while (this.segments.length > 1 && this.segments[0]!.id < frontSeg) {
      const seg = this.segments.shift()!;
      this.totalBytes -= seg.size;
      this.deleteSegmentFile(seg);
    }
    this.compact();
    this.saveCursorSoon();
  }

  /** Hands out again every record not yet acknowledged, from the oldest (after a reconnect). */
  rewind(): void {
    this.sendPos = 0;
  }

  /** Records not yet acknowledged. */
  get depth(): number {
    return this.unacked;
  }

  /** Records handed out by next() and not yet acknowledged. */
  get inflight(): number {
    let n = 0;
    for (let i = this.head; i < this.head + this.sendPos && i < this.entries.length; i++) {
      if (!this.entries[i]!.acked) n++;
    }
    return n;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Records lost (bound overflow, corruption) since the last call; resets the count. */
  takeDropped(): number {
    const d = this.dropped;
    if (d !== 0) {
      this.dropped = 0;
      this.saveCursorSoon();
    }
    return d;
  }

  private cursorBody(): string {
    const active = this.segments[this.segments.length - 1]!;
    const front = this.head < this.entries.length ? this.entries[this.head]! : null;
    const body: CursorFile = front !== null
      ? { v: 1, seg: front.seg.id, off: front.off, dropped: this.dropped }
      : { v: 1, seg: active.id, off: active.size, dropped: this.dropped };
    return JSON.stringify(body);
  }

  private saveCursorSoon(): void {
    if (this.cursorTimer !== null || this.closed) return;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = null;
      this.saveCursor().catch((e: Error) => { this.lastBackgroundError = e; });
    }, this.cursorSaveMs);
    this.cursorTimer.unref();
  }

  /** Saves the ack cursor now (serialised with any save already running). */
  saveCursor(): Promise<void> {
    if (this.saving !== null) {
      this.saveAgain = true;
      return this.saving;
    }
    const file = path.join(this.dir, CURSOR_FILE);
    this.saving = (async () => {
      do {
        this.saveAgain = false;
        await writeFileAtomic(file, this.cursorBody());
      } while (this.saveAgain);
    })().finally(() => { this.saving = null; });
    return this.saving;
  }

  /** Waits for background syncs, makes everything durable, saves the cursor and closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.cursorTimer !== null) { clearTimeout(this.cursorTimer); this.cursorTimer = null; }
    if (this.intervalTimer !== null) { clearInterval(this.intervalTimer); this.intervalTimer = null; }
    await Promise.all([...this.syncs]);
    if (this.saving !== null) await this.saving.catch(() => undefined);
    this.closed = true;
    try {
      for (const seg of this.segments) if (seg.dirty && seg.fd >= 0) fs.fdatasyncSync(seg.fd);
      writeFileAtomicSync(path.join(this.dir, CURSOR_FILE), this.cursorBody());
    } finally {
      this.closeFdsSync();
    }
  }

  private closeFdsSync(): void {
    for (const seg of this.segments) {
      if (seg.fd >= 0) { fs.closeSync(seg.fd); seg.fd = -1; }
    }
  }
}
