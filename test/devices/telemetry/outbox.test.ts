// The durable outbox (outbox.ts) and its CRC32 (crc32.ts): framing, recovery from a torn tail and
// from corruption in the middle, the byte bound, cursor persistence and in-order re-delivery.
// All comparisons are exact: the outbox stores bytes, there is no tolerance to give.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32, crc32Update } from '../../../runtime/crc32.js';
import { FRAME_HEADER_BYTES, Outbox, scanOutbox } from '../../../devices/telemetry/outbox.js';

let dir = '';
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenn-outbox-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const rec = (i: number, pad = 0): Buffer => Buffer.from(`record-${i}${'.'.repeat(pad)}`);
const segFiles = (): string[] => fs.readdirSync(dir).filter((n) => n.startsWith('seg-')).sort();

function drainAll(ob: Outbox): string[] {
  const out: string[] = [];
  for (let r = ob.next(); r !== null; r = ob.next()) { out.push(r.payload.toString()); ob.ack(r.id); }
  return out;
}

describe('crc32', () => {
  it('matches the standard check value and zlib (gzip trailer) on random data', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    for (let t = 0; t < 20; t++) {
      const b = Buffer.alloc(1 + t * 37);
      for (let i = 0; i < b.length; i++) b[i] = (i * 131 + t * 7) & 0xff;
      const gz = zlib.gzipSync(b);
      expect(crc32(b)).toBe(gz.readUInt32LE(gz.length - 8));
      const k = b.length >> 1;
      expect(crc32Update(crc32(b, 0, k), b, k)).toBe(crc32(b));
    }
  });
});

describe('outbox', () => {
  it('hands records out in order and forgets them only when acked; survives reopen', async () => {
    const ob = Outbox.open({ dir });
    for (let i = 0; i < 5; i++) ob.append(rec(i));
    expect(ob.depth).toBe(5);
    const a = ob.next()!; const b = ob.next()!;
    expect([a.payload.toString(), b.payload.toString()]).toEqual(['record-0', 'record-1']);
    ob.ack(b.id);                      // out of order: the durable cursor must not move past record-0
    expect(ob.depth).toBe(4);
    await ob.close();
    const ob2 = Outbox.open({ dir });
    expect(ob2.recovery.records).toBe(5); // record-1 is re-delivered: at-least-once, never lost
    expect(drainAll(ob2)).toEqual(['record-0', 'record-1', 'record-2', 'record-3', 'record-4']);
    await ob2.close();
    const ob3 = Outbox.open({ dir });
    expect(ob3.depth).toBe(0);
    await ob3.close();
  });

  it('persists the ack cursor atomically so acked records are not re-sent after close', async () => {
    const ob = Outbox.open({ dir, cursorSaveMs: 5 });
    for (let i = 0; i < 10; i++) ob.append(rec(i));
    for (let i = 0; i < 6; i++) { const r = ob.next()!; ob.ack(r.id); }
    await ob.saveCursor();
    const c = JSON.parse(fs.readFileSync(path.join(dir, 'cursor.json'), 'utf8')) as { seg: number; off: number };
    expect(c.off).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dir, 'cursor.json.tmp'))).toBe(false);
    // a reader of the saved cursor (as after kill -9 now) sees exactly the 4 un-acked records
    expect(scanOutbox(dir).payloads.map(String)).toEqual(['record-6', 'record-7', 'record-8', 'record-9']);
    await ob.close();
    const ob2 = Outbox.open({ dir });
    expect(drainAll(ob2)).toEqual(['record-6', 'record-7', 'record-8', 'record-9']);
    await ob2.close();
  });

  it('rewind re-sends every un-acked record in order (a reconnect)', async () => {
    const ob = Outbox.open({ dir });
    for (let i = 0; i < 4; i++) ob.append(rec(i));
    const r0 = ob.next()!; ob.next(); ob.next();
    ob.ack(r0.id);
    ob.rewind();
    expect(drainAll(ob)).toEqual(['record-1', 'record-2', 'record-3']);
    expect(ob.next()).toBeNull();
    await ob.close();
  });

  it('drops a torn last record (as after kill -9 mid-write) and keeps everything before it', async () => {
    const ob = Outbox.open({ dir });
    for (let i = 0; i < 8; i++) ob.append(rec(i));
    await ob.close();
    const [seg] = segFiles();
    const file = path.join(dir, seg!);
    const full = fs.statSync(file).size;
    for (const cut of [1, 5, FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + 3]) {
      const work = path.join(dir, `w${cut}`);
      fs.mkdirSync(work);
      fs.copyFileSync(file, path.join(work, seg!));
      fs.truncateSync(path.join(work, seg!), full - cut);
      const o = Outbox.open({ dir: work });
      expect(o.recovery.tornBytes).toBe(rec(7).length + FRAME_HEADER_BYTES - cut);
      expect(o.recovery.corruptRecords).toBe(0);
      expect(o.takeDropped()).toBe(0);      // a torn append was never a complete record
      o.append(Buffer.from('after'));       // appends continue right after the last good record
      expect(drainAll(o)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `record-${i}`).concat('after'));
      await o.close();
    }
  });

  it('skips a record whose bytes were corrupted in the middle and reports it as dropped', async () => {
    const ob = Outbox.open({ dir });
    const offs: number[] = [];
    let off = 0;
    for (let i = 0; i < 6; i++) { offs.push(off); ob.append(rec(i)); off += FRAME_HEADER_BYTES + rec(i).length; }
    await ob.close();
    const file = path.join(dir, segFiles()[0]!);
    const b = fs.readFileSync(file);
    b[offs[2]! + FRAME_HEADER_BYTES + 3] ^= 0x40;  // payload bit flip in record-2: CRC fails
    b[offs[4]! + 5] ^= 0x01;                        // length field of record-4: resync by magic
    fs.writeFileSync(file, b);
    const o = Outbox.open({ dir });
    expect(o.recovery.corruptRecords).toBe(2);
    expect(o.recovery.tornBytes).toBe(0);
    expect(o.takeDropped()).toBe(2);
    expect(o.takeDropped()).toBe(0);
    expect(drainAll(o)).toEqual(['record-0', 'record-1', 'record-3', 'record-5']);
    await o.close();
  });

  it('stays within maxBytes by dropping the oldest segments and counts what was dropped', async () => {
    const maxBytes = 4096, segmentBytes = 1024;
    const ob = Outbox.open({ dir, maxBytes, segmentBytes });
    const N = 300;
    for (let i = 0; i < N; i++) {
      ob.append(rec(i, 40));
      const total = segFiles().reduce((s, n) => s + fs.statSync(path.join(dir, n)).size, 0);
      expect(total).toBeLessThanOrEqual(maxBytes);
      expect(ob.bytes).toBe(total);
    }
    const dropped = ob.takeDropped();
    const kept = drainAll(ob);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + kept.length).toBe(N);               // every record is either kept or counted
    expect(kept[kept.length - 1]).toBe(rec(N - 1, 40).toString()); // the newest survive
    const firstKept = Number(/record-(\d+)/.exec(kept[0]!)![1]);
    expect(kept).toEqual(Array.from({ length: N - firstKept }, (_, k) => rec(firstKept + k, 40).toString()));
    await ob.close();
  });

  it('deletes fully acked segments and never grows without bound while draining', async () => {
    const ob = Outbox.open({ dir, maxBytes: 8192, segmentBytes: 512 });
    for (let i = 0; i < 500; i++) {
      ob.append(rec(i, 20));
      const r = ob.next()!;
      ob.ack(r.id);
    }
    expect(ob.takeDropped()).toBe(0);
    expect(segFiles().length).toBe(1);
    await ob.close();
  });

  it('refuses oversize records and bad options with EdgennError', async () => {
    expect(() => Outbox.open({ dir, maxBytes: 1000, segmentBytes: 800 })).toThrow(/segmentBytes/);
    const ob = Outbox.open({ dir, maxBytes: 1 << 20, maxRecordBytes: 100 });
    expect(() => ob.append(Buffer.alloc(101))).toThrow(/too large/);
    await ob.close();
    expect(() => ob.append(Buffer.alloc(1))).toThrow(/closed/);
  });

  it('fsync policies all persist the same records (append, batch, interval)', async () => {
    for (const fsync of [{ mode: 'append' }, { mode: 'batch' }, { mode: 'interval', ms: 5 }] as const) {
      const d = path.join(dir, fsync.mode);
      const ob = Outbox.open({ dir: d, fsync });
      for (let i = 0; i < 20; i++) { ob.append(rec(i)); ob.sync(); }
      await ob.close();
      expect(scanOutbox(d).payloads.map(String)).toEqual(Array.from({ length: 20 }, (_, i) => `record-${i}`));
    }
  });
});
