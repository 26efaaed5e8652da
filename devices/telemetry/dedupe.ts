// Fleet-side de-duplication of at-least-once records by (device, seq). Per device: the highest seq
// accepted (high-water mark) and a bitmap of which of the W seqs below it were seen. Memory per
// device is fixed (W / 8 bytes), whatever the traffic.
//
// Why a window and not just the high-water mark: a device sends its outbox in order, so first
// deliveries arrive in increasing seq and "seq <= high-water" already means duplicate; the window
// keeps a record that arrives out of order (a broker-refused publish retried later) from being
// taken for a duplicate. A seq more than W below the high-water mark cannot be told apart and is
// reported 'stale' (callers drop it, as a duplicate).
//
// Use it for the history kinds (metrics, events, reply). Status is state, not history: it is
// ordered, not de-duplicated (fleet-merge.ts).

export type DedupeVerdict = 'new' | 'duplicate' | 'stale';

interface DeviceWindow {
  hw: number;             // highest seq accepted
  readonly bits: Uint8Array; // (W/8,) bit (s mod W) set <=> s in (hw - W, hw] was seen
}

export class SeqDedupe {
  readonly window: number;
  private readonly devices = new Map<string, DeviceWindow>();

  /** window: W, a multiple of 8; default 4096 seqs. */
  constructor(window = 4096) {
    if (!Number.isInteger(window) || window < 8 || window % 8 !== 0) {
      throw new RangeError(`SeqDedupe window must be a positive multiple of 8, got ${window}`);
    }
    this.window = window;
  }

  /** Classifies (device, seq) and, if new, remembers it. */
  check(device: string, seq: number): DedupeVerdict {
    const W = this.window;
    let d = this.devices.get(device);
    if (d === undefined) {
      d = { hw: seq, bits: new Uint8Array(W / 8) };
      this.devices.set(device, d);
      setBit(d.bits, seq % W);
      return 'new';
    }
    if (seq > d.hw) {
      if (seq - d.hw >= W) d.bits.fill(0);
      else for (let s = d.hw + 1; s < seq; s++) clearBit(d.bits, s % W);
      setBit(d.bits, seq % W);
      d.hw = seq;
      return 'new';
    }
    if (seq <= d.hw - W) return 'stale';
    const i = seq % W;
    if ((d.bits[i >>> 3]! & (1 << (i & 7))) !== 0) return 'duplicate';
    setBit(d.bits, i);
    return 'new';
  }

  /** Highest seq accepted from a device, or null if none yet. */
  highWater(device: string): number | null {
    return this.devices.get(device)?.hw ?? null;
  }
}

function setBit(b: Uint8Array, i: number): void {
  b[i >>> 3] = b[i >>> 3]! | (1 << (i & 7));
}

function clearBit(b: Uint8Array, i: number): void {
  b[i >>> 3] = b[i >>> 3]! & ~(1 << (i & 7));
}
