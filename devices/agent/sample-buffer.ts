// The bounded buffer of locally labelled samples that fine-tuning learns from: a ring of C slots
// preallocated at start; when full, a new sample overwrites the oldest one (counted as dropped).
// `snapshot()` lays the live samples out oldest-first in a second preallocated slab and returns
// them as a trainer Dataset (views, no copy of the data per call beyond that slab), so memory
// never grows with the number of samples seen.
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
  private readonly snapX: Float32Array;          // (C, I) oldest-first copy for training
  private readonly snapY: Float32Array | Int32Array;
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
    this.snapX = new Float32Array(this.capacity * this.inputFloats);
    const Y = o.target.kind === 'index' ? Int32Array : Float32Array;
    this.ys = new Y(this.capacity * this.targetFloats);
    this.snapY = new Y(this.capacity * this.targetFloats);
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

  /** The live samples, oldest first, as a Dataset over this buffer's snapshot slab. Valid until
   * the next snapshot(). */
  snapshot(): Dataset {
    const I = this.inputFloats, T = this.targetFloats, C = this.capacity, n = this.size;
    const first = (this.head - n + C) % C;
    for (let r = 0; r < n; r++) {
      const s = (first + r) % C;
      for (let i = 0; i < I; i++) this.snapX[r * I + i] = this.xs[s * I + i]!;
      for (let i = 0; i < T; i++) this.snapY[r * T + i] = this.ys[s * T + i]!;
    }
    return {
      x: this.snapX.subarray(0, n * I), sampleDims: this.opts.inputDims,
      y: this.snapY.subarray(0, n * T), targetFloats: T, n,
    };
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
    this.fresh = 0;
  }
}
