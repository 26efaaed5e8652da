// Per-device sequence numbers that never repeat, across restarts, kill -9 and power loss.
// A high-water mark H on disk means "every seq < H may already have been used". Opening the
// counter starts at the stored H and first reserves a block [H, H + block) by writing H + block
// atomically; seqs are handed out from memory until the block is used up, then the next block is
// reserved. A crash therefore skips at most one block of numbers and never reuses one.
// Gaps are expected (crashes, and the seq each connection reserves for its Last Will); seq orders
// and de-duplicates records, it does not count them.
//
// It is not shared between processes: one agent owns its state directory.

import * as fs from 'node:fs';
import { EdgennError } from '../../runtime/errors.js';
import { writeFileAtomicSync } from '../../runtime/train/atomic-write.js';

export const SEQ_FILE_VERSION = 1;

interface SeqFile { v: number; reserved: number }

export class SeqCounter {
  private nextSeq: number;
  private reservedTo: number;

  private constructor(readonly file: string, readonly block: number, start: number) {
    this.nextSeq = start;
    this.reservedTo = start;
  }

  /** Opens (or creates, starting at seq 1) the counter stored in `file`. Synchronous: runs once
   * at start-up and once per `block` seqs. */
  static open(file: string, block = 1000): SeqCounter {
    if (!Number.isInteger(block) || block < 1) {
      throw new EdgennError('ARG', 'seq block must be a positive integer', { file, actual: String(block) });
    }
    let start = 1;
    let text: string | null = null;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new EdgennError('IO', `cannot read seq high-water mark: ${(e as Error).message}`, { file });
      }
    }
    if (text !== null) {
      let parsed: unknown;
      try { parsed = JSON.parse(text); } catch { parsed = null; }
      const p = parsed as Partial<SeqFile> | null;
      // NOTE: refusing to start beats silently restarting at 1: reused seqs would be dropped as
      // duplicates by the fleet. The file is only ever replaced atomically, so this means damage.
      if (p === null || p.v !== SEQ_FILE_VERSION || typeof p.reserved !== 'number'
          || !Number.isSafeInteger(p.reserved) || p.reserved < 1) {
        throw new EdgennError('DATA', 'seq high-water file is malformed', {
          file, expected: `{"v":${SEQ_FILE_VERSION},"reserved":<integer >= 1>}`, actual: text.slice(0, 80),
        });
      }
      start = p.reserved;
    }
    const c = new SeqCounter(file, block, start);
    c.reserve();
    return c;
  }

  private reserve(): void {
    const to = this.reservedTo + this.block;
    const body: SeqFile = { v: SEQ_FILE_VERSION, reserved: to };
    try {
      writeFileAtomicSync(this.file, JSON.stringify(body));
    } catch (e) {
      throw new EdgennError('IO', `cannot persist seq high-water mark: ${(e as Error).message}`, { file: this.file });
    }
    this.reservedTo = to;
  }

  /** The next seq; strictly greater than every seq this device ever handed out before. */
  next(): number {
    if (this.nextSeq >= this.reservedTo) this.reserve();
    return this.nextSeq++;
  }

  /** The seq next() would return (for tests and diagnostics). */
  peek(): number {
    return this.nextSeq;
  }
}
