// Test harness for the loss kernels (runtime/losses): a small arena with guard cells between
// regions, a seeded RNG, and the three generic checks every loss gets:
//   twin   kernel (float32 arena) vs its float64 reference twin, loss, rows and gradient, plus
//          "writes only its outputs" (guards and inputs bit-identical afterwards);
//   fd     the kernel's gradient vs central differences (h = 1e-3) of the float64 Ref forward;
//   accum  backward accumulates: twice from zero is exactly 2x once, and it adds onto old values.
// Allocates freely: it is test code.
import { expect } from 'vitest';
import { expectClose, type Tolerance } from '../../helpers/reference.js';
import type { LossRef } from '../../../runtime/losses/types.js';

const SENTINEL = 1234.5; // exactly representable; a kernel writing outside its regions changes it
const GUARD = 3;

export class TestArena {
  readonly a: Float32Array;
  readonly ia: Int32Array;
  private top = GUARD;
  private readonly regions: { off: number; n: number }[] = [];
  constructor(capacity: number) {
    const buf = new ArrayBuffer(capacity * 4);
    this.a = new Float32Array(buf);
    this.ia = new Int32Array(buf);
    this.a.fill(SENTINEL);
  }
  alloc(n: number): number {
    const off = this.top;
    if (off + n + GUARD > this.a.length) throw new Error(`test arena too small (${this.a.length})`);
    this.top += n + GUARD;
    this.regions.push({ off, n });
    return off;
  }
  allocF(values: ArrayLike<number>): number {
    const off = this.alloc(values.length);
    for (let k = 0; k < values.length; k++) this.a[off + k] = values[k]!;
    return off;
  }
  allocI(values: ArrayLike<number>): number {
    const off = this.alloc(values.length);
    for (let k = 0; k < values.length; k++) this.ia[off + k] = values[k]!;
    return off;
  }
  read(off: number, n: number): Float32Array {
    return this.a.slice(off, off + n);
  }
  /** true when every cell outside the allocated regions still holds the sentinel */
  guardsIntact(): boolean {
    let k = 0;
    for (const r of this.regions) {
      for (; k < r.off; k++) if (this.a[k] !== SENTINEL) return false;
      k = r.off + r.n;
    }
    for (; k < this.a.length; k++) if (this.a[k] !== SENTINEL) return false;
    return true;
  }
  snapshot(): Uint32Array {
    return new Uint32Array(this.a.buffer.slice(0));
  }
  /** index of the first cell (outside the writable [off, off+n) ranges) that differs from snap */
  changedOutside(snap: Uint32Array, writable: readonly (readonly [number, number])[]): number {
    const now = new Uint32Array(this.a.buffer);
    for (let k = 0; k < now.length; k++) {
      if (now[k] === snap[k]) continue;
      if (writable.some(([off, n]) => k >= off && k < off + n)) continue;
      return k;
    }
    return -1;
  }
}

/** mulberry32 + Box-Muller, local so the tests do not depend on other runtime files */
export class TestRng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.next(); }
  int(n: number): number { return Math.floor(this.next() * n); }
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  f32(n: number, f: () => number): Float32Array {
    const out = new Float32Array(n);
    for (let k = 0; k < n; k++) out[k] = f();
    return out;
  }
}

/** Arena offsets every loss has; the adapter allocates its own extra inputs (target, weights). */
export interface LossOffsets {
  readonly out: number; readonly rows: number; readonly scratch: number;
  readonly pred: number; readonly dpred: number; readonly gOut: number;
}

/** One loss configuration under test, adapted to the generic checks. */
export interface LossHarness {
  readonly label: string;
  readonly B: number;
  readonly C: number;
  readonly none: boolean;           // reduction 'none': gOut is shaped like rows
  readonly rowsLen: number;         // B (per-row losses) or B*C (per-element)
  readonly scratchLen: number;      // from xxxScratchFloats
  readonly pred: Float32Array;      // [B*C], the input that gets a gradient
  placeInputs(t: TestArena): void;  // allocates and fills target / weights (not pred)
  forward(t: TestArena, o: LossOffsets): void;
  backward(t: TestArena, o: LossOffsets): void;
  refForward(pred: ArrayLike<number>): LossRef;
  refBackward(pred: ArrayLike<number>, gOut: number | ArrayLike<number>): Float64Array;
}

export interface Built { readonly t: TestArena; readonly o: LossOffsets; readonly g: Float32Array }

/** Lays out an arena for h with upstream gradient g (scalar: length 1; 'none': rowsLen). */
export function build(h: LossHarness, g: Float32Array): Built {
  const n = h.B * h.C;
  const t = new TestArena(3 * n + 2 * h.rowsLen + h.scratchLen + 2 * n + h.C + h.B + 64);
  const pred = t.allocF(h.pred);
  h.placeInputs(t);
  const o: LossOffsets = {
    out: t.alloc(1), rows: t.alloc(h.rowsLen), scratch: t.alloc(h.scratchLen),
    pred, dpred: t.allocF(new Float32Array(n)), gOut: t.allocF(g),
  };
  return { t, o, g };
}

export function upstream(h: LossHarness, rng: TestRng): Float32Array {
  return h.none ? rng.f32(h.rowsLen, () => rng.normal()) : Float32Array.of(Math.fround(rng.uniform(0.5, 2)));
}

function gArg(h: LossHarness, g: Float32Array): number | Float32Array {
  return h.none ? g : g[0]!;
}

/** Kernel vs Ref twin; writes only out/rows/scratch (forward) and dpred (backward). */
export function checkTwin(h: LossHarness, rng: TestRng, lossTol: Tolerance, gradTol: Tolerance): void {
  const { t, o, g } = build(h, upstream(h, rng));
  const n = h.B * h.C;
  let snap = t.snapshot();
  h.forward(t, o);
  expect(t.changedOutside(snap, [[o.out, 1], [o.rows, h.rowsLen], [o.scratch, h.scratchLen]]),
    `${h.label}: forward wrote outside out/rows/scratch`).toBe(-1);
  const ref = h.refForward(h.pred);
  expectClose(`${h.label} loss`, [t.a[o.out]!], [h.none ? sumOf(ref.rows) : ref.loss], lossTol);
  expectClose(`${h.label} rows`, t.read(o.rows, h.rowsLen), ref.rows, lossTol);
  snap = t.snapshot();
  h.backward(t, o);
  expect(t.changedOutside(snap, [[o.dpred, n]]), `${h.label}: backward wrote outside dpred`).toBe(-1);
  expectClose(`${h.label} grad`, t.read(o.dpred, n), h.refBackward(h.pred, gArg(h, g)), gradTol);
  expect(t.guardsIntact(), `${h.label}: guard cells`).toBe(true);
}

export function sumOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k]!;
  return s;
}

/**
 * Central differences of the float64 Ref forward, f(x) = loss (or sum_k g_k rows_k for 'none'),
 * at h_fd = 1e-3 per coordinate, against the kernel's float32 gradient.
 */
export function checkFd(h: LossHarness, rng: TestRng, tol: Tolerance, hFd = 1e-3): void {
  const { t, o, g } = build(h, upstream(h, rng));
  h.forward(t, o);
  h.backward(t, o);
  const got = t.read(o.dpred, h.B * h.C);
  const f = (x: Float64Array): number => {
    const r = h.refForward(x);
    if (!h.none) return g[0]! * r.loss;
    let s = 0;
    for (let k = 0; k < h.rowsLen; k++) s += g[k]! * r.rows[k]!;
    return s;
  };
  const x = Float64Array.from(h.pred);
  const fd = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const x0 = x[k]!;
    x[k] = x0 + hFd; const fp = f(x);
    x[k] = x0 - hFd; const fm = f(x);
    x[k] = x0;
    fd[k] = (fp - fm) / (2 * hFd);
  }
  expectClose(`${h.label} finite differences`, got, fd, tol);
}

/** Twice from zero is exactly twice once (float32 x+x is exact); and it adds onto old values. */
export function checkAccumulates(h: LossHarness, rng: TestRng): void {
  const { t, o } = build(h, upstream(h, rng));
  const n = h.B * h.C;
  h.forward(t, o);
  h.backward(t, o);
  const once = t.read(o.dpred, n);
  h.backward(t, o);
  const twice = t.read(o.dpred, n);
  for (let k = 0; k < n; k++) expect(twice[k], `${h.label} [${k}]`).toBe(Math.fround(2 * once[k]!));
  // onto arbitrary old values: fround(old + g) where only fround(g) = once is known here, so
  // allow one float32 ulp of |old| + |g| (half for each rounding)
  const old = rng.f32(n, () => rng.normal());
  t.a.set(old, o.dpred);
  h.backward(t, o);
  const after = t.read(o.dpred, n);
  for (let k = 0; k < n; k++) {
    const want = old[k]! + once[k]!;
    const ulp = (Math.abs(old[k]!) + Math.abs(once[k]!)) * 2 ** -23;
    expect(Math.abs(after[k]! - want), `${h.label} [${k}] old ${old[k]} + g ${once[k]}`).toBeLessThanOrEqual(ulp);
  }
}
