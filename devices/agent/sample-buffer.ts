// The bounded buffer of locally labelled samples that fine-tuning learns from: a ring of C slots
// preallocated at start; when full, a new sample overwrites the oldest one (counted as dropped).
// `snapshot()` copies the live samples out oldest-first into arrays of their own and returns them
// as a trainer Dataset, so a fine-tune trains on a fixed set while new samples keep arriving;
// that copy exists only while a run holds it (it is not kept between runs: on a 512 MB board the
// agent holds one slab of C samples, not two). Memory never grows with the number of samples seen.
//
// It is not a dataset store: samples live in memory only and are gone after a restart (the model
// they trained survives in the checkpoints).
//
// Dimensions: C = capacity (fineTune.bufferSize), I = floats per input sample, T = floats per
// target (1 for a class index).

import { EdgennError } from '../../runtime/errors.js';
import type { Dataset } from '../../runtime/train/types.js';

export interface SampleBufferOptions {
  readonly capacity: number;
  readonly inputDims: readonly number[];
  /** Class index targets (cross-entropy, nll) in [0, classes); else T floats per target. */
  readonly target: { readonly kind: 'index'; readonly classes: number } | { readonly kind: 'floats'; readonly floats: number };
}

export class SampleBuffer {
  readonly capacity: number;
  readonly inputFloats: number;     // I
  readonly targetFloats: number;    // T
  private readonly xs: Float32Array;             // (C, I) ring
  private readonly ys: Float32Array | Int32Array; // (C, T) ring
  private readonly opts: SampleBufferOptions;
  private head = 0;     // next slot to write
  private size = 0;
  /** Samples ever accepted. */
  added = 0;
  /** Samples lost because the buffer was full (the oldest is overwritten). */
  dropped = 0;
  /** Samples accepted since markUsed(). */
  fresh = 0;

  constructor(o: SampleBufferOptions) {
    this.opts = o;
    this.capacity = o.capacity;
    this.inputFloats = o.inputDims.reduce((a, b) => a * b, 1);
    this.targetFloats = o.target.kind === 'index' ? 1 : o.target.floats;
    this.xs = new Float32Array(this.capacity * this.inputFloats);
    const Y = o.target.kind === 'index' ? Int32Array : Float32Array;
    this.ys = new Y(this.capacity * this.targetFloats);
  }

  get count(): number {
    return this.size;
  }

  /** Checks a sample without storing it; throws EdgennError('DATA') saying what is wrong. */
  check(x: ArrayLike<number>, label: number | ArrayLike<number>): void {
    const I = this.inputFloats;
    if (x.length !== I) throw new EdgennError('DATA', 'sample x has the wrong length', { tensor: 'x', expected: `${I} numbers`, actual: `${x.length}` });
    for (let i = 0; i < I; i++) {
      const v = x[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new EdgennError('DATA', `sample x[${i}] is not a finite number`, { tensor: 'x', actual: String(v) });
    }
    const t = this.opts.target;
    if (t.kind === 'index') {
      if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= t.classes) {
        throw new EdgennError('DATA', 'label is not a class index', { tensor: 'label', expected: `an integer in [0, ${t.classes})`, actual: JSON.stringify(label) });
      }
      return;
    }
    const arr: ArrayLike<number> = typeof label === 'number' ? [label] : label;
    if (arr.length !== t.floats) throw new EdgennError('DATA', 'label has the wrong length', { tensor: 'label', expected: `${t.floats} numbers`, actual: `${arr.length}` });
    for (let i = 0; i < arr.length; i++) {
      if (typeof arr[i] !== 'number' || !Number.isFinite(arr[i]!)) throw new EdgennError('DATA', `label[${i}] is not a finite number`, { tensor: 'label', actual: String(arr[i]) });
    }
  }

  /** Stores a sample (checked first); returns false when it overwrote the oldest one. */
  push(x: ArrayLike<number>, label: number | ArrayLike<number>): boolean {
    this.check(x, label);
    const I = this.inputFloats, T = this.targetFloats, s = this.head;
    for (let i = 0; i < I; i++) this.xs[s * I + i] = x[i]!;
    if (typeof label === 'number') this.ys[s * T] = label;
    else for (let i = 0; i < T; i++) this.ys[s * T + i] = label[i]!;
    this.head = (s + 1) % this.capacity;
    const overwrote = this.size === this.capacity;
    if (overwrote) this.dropped++;
    else this.size++;
    this.added++;
    this.fresh++;
    return !overwrote;
  }

  /** Marks the current samples as used by a fine-tune (resets `fresh`). */
  markUsed(): void {
    this.fresh = 0;
  }

  /** A copy of the live samples, oldest first, as a Dataset (n x I and n x T values). Allocates
   * (once per fine-tune run, never per sample). */
  snapshot(): Dataset {
    const I = this.inputFloats, T = this.targetFloats, C = this.capacity, n = this.size;
    const x = new Float32Array(n * I);
    const y = this.ys instanceof Int32Array ? new Int32Array(n * T) : new Float32Array(n * T);
    const first = (this.head - n + C) % C;
    for (let r = 0; r < n; r++) {
      const s = (first + r) % C;
      x.set(this.xs.subarray(s * I, (s + 1) * I), r * I);
      for (let i = 0; i < T; i++) y[r * T + i] = this.ys[s * T + i]!;
    }
    return { x, sampleDims: this.opts.inputDims, y, targetFloats: T, n };
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
    this.fresh = 0;
  }
}
