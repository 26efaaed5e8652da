// The arena: one ArrayBuffer holding everything a compiled model touches (parameters, gradients,
// optimizer state, activations, scratch), with typed views over the same bytes. It is sized once
// by the planner and never grows: asking for more than it holds fails loudly (ggml's context).
// The backing buffer can be supplied by the caller, e.g. a WebAssembly.Memory's buffer, so fast
// kernels can work on the same bytes; callers only ever see the views below.
import { EdgennError } from './errors.js';

/** Alignment of every block: 16 bytes, the WebAssembly SIMD (and NEON) vector width. Kept
 * small on purpose: tiny edge models have many small buffers, where cache-line padding would
 * cost more than the arena itself. */
export const ARENA_ALIGN = 16;

export function alignUp(bytes: number, align: number = ARENA_ALIGN): number {
  return Math.ceil(bytes / align) * align;
}

export class Arena {
  readonly buffer: ArrayBuffer;
  /** byte offset of the arena inside `buffer` (non-zero when it lives inside a larger memory) */
  readonly base: number;
  readonly bytes: number;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly i8: Int8Array;
  readonly u8: Uint8Array;
  private top = 0;

  /**
   * @param bytes size of the arena in bytes (rounded up to the alignment)
   * @param backing optional buffer to live in (e.g. `wasmMemory.buffer`); must hold base + bytes
   * @param base byte offset inside `backing`, aligned to ARENA_ALIGN
   */
  constructor(bytes: number, backing?: ArrayBuffer, base = 0) {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new EdgennError('ARG', 'arena size must be a non-negative integer', { actual: String(bytes) });
    }
    const size = alignUp(bytes);
    if (base % ARENA_ALIGN !== 0) {
      throw new EdgennError('ARG', `arena base must be ${ARENA_ALIGN}-byte aligned`, { actual: String(base) });
    }
    const buffer = backing ?? new ArrayBuffer(size);
    if (buffer.byteLength < base + size) {
      throw new EdgennError('ARENA_FULL', 'backing buffer is smaller than the arena',
        { expected: `>= ${base + size} bytes`, actual: `${buffer.byteLength} bytes` });
    }
    this.buffer = buffer;
    this.base = base;
    this.bytes = size;
    // NOTE: every view starts at the buffer's byte 0, so an offset computed as
    // (base + blockOffset) / elementSize indexes every view the same way.
    this.f32 = new Float32Array(buffer, 0, (base + size) >> 2);
    this.i32 = new Int32Array(buffer, 0, (base + size) >> 2);
    this.i8 = new Int8Array(buffer, 0, base + size);
    this.u8 = new Uint8Array(buffer, 0, base + size);
  }

  /** Bump-allocates `bytes` (aligned); returns the byte offset in the views' coordinates. */
  alloc(bytes: number, what = 'block'): number {
    const size = alignUp(bytes);
    if (this.top + size > this.bytes) {
      throw new EdgennError('ARENA_FULL', `arena cannot hold ${what}`,
        { expected: `<= ${this.bytes - this.top} free bytes`, actual: `${size} bytes requested` });
    }
    const off = this.base + this.top;
    this.top += size;
    return off;
  }

  get used(): number {
    return this.top;
  }
}
