// Every wasm SIMD kernel against its JS twin, on shapes 1, 3, 4, 17, 33, 257 (non-multiples of the
// vector width, of the 2x4 / 4x8 register tiles, and single rows/columns), at unaligned offsets,
// with sentinels around every buffer so a tile that writes past its end is caught.
// Tolerances:
//   - dense forward/backward: |wasm - ref| <= 1e-5 + 1e-5 * M, where ref is the naive twin
//     (float64 sums, one rounding) and M = the same twin on |x|, |w|, |dy| (and |initial|), i.e.
//     the sum of |terms| of each output. The wasm kernels sum in float32 in another order; the
//     rounding error of a float32 sum is bounded by a multiple of u = 2^-24 times M, not times
//     |y| (which can cancel to ~0), so M is the right scale. The random-walk error here is
//     ~sqrt(n)*u*M <= 1e-6*M for n <= 257: the bound is 10x that, and a dropped or repeated
//     term (>= |term| ~ 1/M of M) is orders of magnitude outside it.
//   - relu / leaky relu forward+backward, SGD, Adam: bit-exact (Object.is per element) with the
//     JS kernels; kernels.wat reproduces the JS rounding op for op.
//   - int8 dense: exact (integer arithmetic).
import { describe, it, expect, beforeAll } from 'vitest';
import { createWasmKernels, wasmSimdSupported, DenseAct, type WasmKernels } from '../../../runtime/wasm/kernels.js';
import { wasmOptimizerStep, makeWasmDispatch } from '../../../runtime/wasm/executor-hooks.js';
import { denseForward, denseForwardRef, denseBackward, denseBackwardRef } from '../../../runtime/ops/dense.js';
import { reluForward, reluBackward } from '../../../runtime/ops/relu.js';
import { leakyReluForward, leakyReluBackward } from '../../../runtime/ops/leaky-relu.js';
import { SgdOptimizer } from '../../../runtime/optim/sgd.js';
import { AdamOptimizer } from '../../../runtime/optim/adam.js';
import type { OptimizerConfig } from '../../../runtime/optim/optimizer.js';
import { Rng } from '../../../runtime/random.js';
import { int8DenseForward, multiplyByQuantizedMultiplier, quantizeForward, quantizeMultiplierInto } from '../../../runtime/quant/int8.js';
import { int8RequantizeRows } from '../../../runtime/ops/int8-op.js';

const SIZES = [1, 3, 4, 17, 33, 257];
// negative: relu and leaky relu change it, so an overrun copying a gap into a gap is caught
const SENTINEL = -7777.25;

let k: WasmKernels;
let a: Float32Array;

beforeAll(() => {
  const kk = createWasmKernels(16 << 20);
  if (kk === null) throw new Error('wasm SIMD unavailable on this Node: these tests need it');
  k = kk;
  a = new Float32Array(k.buffer);
});

/** Lays out buffers of the given float lengths one after another at odd (unaligned) offsets,
 *  separated by sentinel gaps; returns their offsets. */
let extent = 0;
function layout(lengths: readonly number[], start = 5): number[] {
  const offs: number[] = [];
  let at = start;
  for (const n of lengths) { offs.push(at); at += n + 3; }
  if (at > (1 << 20)) throw new Error('test layout too large');
  a.fill(SENTINEL, 0, Math.max(at, extent));
  extent = at;                                    // the window every check below compares
  return offs;
}

function fill(dst: Float32Array, at: number, n: number, rng: Rng, lo = -1, hi = 1): void {
  for (let i = 0; i < n; i++) dst[at + i] = rng.uniform(lo, hi);
}

/** indices of `got` differing from `was` outside the [at, at+n) ranges (written outputs) */
function changedOutside(was: Float32Array, got: Float32Array, ranges: ReadonlyArray<readonly [number, number]>): number[] {
  const inside = new Uint8Array(was.length);
  for (const [at, n] of ranges) inside.fill(1, at, at + n);
  const bad: number[] = [];
  for (let i = 0; i < was.length && bad.length < 5; i++) {
    if (inside[i] === 0 && !Object.is(was[i], got[i])) bad.push(i);
  }
  return bad;
}

function expectDenseClose(got: Float32Array, ref: Float32Array, mag: Float32Array, at: number, n: number, what: string): void {
  for (let i = 0; i < n; i++) {
    const tol = 1e-5 + 1e-5 * mag[at + i]!;
    const d = Math.abs(got[at + i]! - ref[at + i]!);
    if (!(d <= tol)) throw new Error(`${what}[${i}]: wasm ${got[at + i]} vs ref ${ref[at + i]} (|d| ${d} > tol ${tol})`);
  }
}

function absCopy(src: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.abs(src[i]!);
  return out;
}

const SHAPES: Array<[number, number, number]> = [];
for (const B of [1, 2, 3, 17]) for (const I of SIZES) for (const O of SIZES) SHAPES.push([B, I, O]);
SHAPES.push([33, 33, 33], [32, 257, 17], [5, 784, 10], [64, 16, 32]);

describe('wasm kernels: loader', () => {
  it('detects SIMD on this Node and sizes the memory once, non-growable', () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(k.bytes).toBeGreaterThanOrEqual(16 << 20);
    expect(() => k.memory.grow(1)).toThrow();
    expect(k.memory.buffer).toBe(k.buffer);
  });
});

describe('wasm dense forward vs the JS twins (tol 1e-5 + 1e-5 * sum|terms|)', () => {
  for (const act of [DenseAct.None, DenseAct.Relu, DenseAct.LeakyRelu]) {
    it(`act ${act}: every shape in {1,2,3,17} x {1,3,4,17,33,257}^2 and larger`, () => {
      const rng = new Rng(11 + act);
      for (const [B, I, O] of SHAPES) {
        for (const withBias of [true, false]) {
          const [x, w, b, y] = layout([B * I, O * I, O, B * O], 1 + (B + I + O) % 4);
          fill(a, x!, B * I, rng); fill(a, w!, O * I, rng); fill(a, b!, O, rng);
          const bo = withBias ? b! : -1;
          const before = a.slice(0, extent);
          k.denseForward(y!, x!, w!, bo, B, I, O, act, 0.01);
          const got = a.slice(0, extent);
          expect(changedOutside(before, got, [[y!, B * O]])).toEqual([]);
          // references on a copy: naive twin (+ JS activation), and the twin on |values|
          const ref = before.slice();
          denseForwardRef(ref, y!, x!, w!, bo, B, I, O);
          if (act === DenseAct.Relu) reluForward(ref, y!, y!, B * O);
          if (act === DenseAct.LeakyRelu) leakyReluForward(ref, y!, y!, B * O, Float64Array.of(0.01));
          const mag = absCopy(before, extent);
          denseForwardRef(mag, y!, x!, w!, bo, B, I, O);
          expectDenseClose(got, ref, mag, y!, B * O, `y ${B}x${I}x${O} bias=${withBias}`);
          // and the fast JS kernel agrees with the same tolerance (same reference semantics)
          const fast = before.slice();
          denseForward(fast, y!, x!, w!, bo, B, I, O);
          if (act === DenseAct.None) expectDenseClose(got, fast, mag, y!, B * O, `y-vs-fast ${B}x${I}x${O}`);
        }
      }
    });
  }

  it('relu epilogue maps -0 and negatives to +0 and keeps NaN, like reluForward', () => {
    const [x, w, y] = layout([4, 4 * 4, 4]);
    a.set([1, 0, 0, 0], x!);
    a.set([-2, 0, 0, 0, 0, 0, 0, 0, NaN, 0, 0, 0, -0, 0, 0, 0], w!);   // y = -2, 0, NaN, -0
    a.set([1, 1, 1, 1], y!);
    k.denseForward(y!, x!, w!, -1, 1, 4, 4, DenseAct.Relu, 0);
    expect(Object.is(a[y!], 0)).toBe(true);
    expect(Object.is(a[y! + 1], 0)).toBe(true);
    expect(Number.isNaN(a[y! + 2])).toBe(true);
    expect(Object.is(a[y! + 3], 0)).toBe(true);
  });
});

describe('wasm dense backward vs the JS twins (tol 1e-5 + 1e-5 * sum|terms|)', () => {
  it('accumulates dx, dw, db (+=) for every shape; each may be -1', () => {
    const rng = new Rng(21);
    let variant = 0;
    for (const [B, I, O] of SHAPES) {
      const [x, w, dy, dx, dw, db] = layout([B * I, O * I, B * O, B * I, O * I, O], 2 + (B * 3 + I) % 4);
      fill(a, x!, B * I, rng); fill(a, w!, O * I, rng); fill(a, dy!, B * O, rng);
      fill(a, dx!, B * I, rng); fill(a, dw!, O * I, rng); fill(a, db!, O, rng);   // += onto non-zero
      // cycle through which gradients are requested (all, and each one alone)
      const v = variant++ % 4;
      const dxo = v === 0 || v === 1 ? dx! : -1, dwo = v === 0 || v === 2 ? dw! : -1, dbo = v === 0 || v === 3 ? db! : -1;
      const before = a.slice(0, extent);
      k.denseBackward(dxo, dwo, dbo, dy!, x!, w!, B, I, O);
      const got = a.slice(0, extent);
      const written: Array<[number, number]> = [];
      if (dxo >= 0) written.push([dx!, B * I]);
      if (dwo >= 0) written.push([dw!, O * I]);
      if (dbo >= 0) written.push([db!, O]);
      expect(changedOutside(before, got, written)).toEqual([]);
      const ref = before.slice();
      denseBackwardRef(ref, dxo, dwo, dbo, dy!, x!, w!, B, I, O);
      const mag = absCopy(before, extent);
      denseBackwardRef(mag, dxo, dwo, dbo, dy!, x!, w!, B, I, O);
      const tag = `${B}x${I}x${O}`;
      if (dxo >= 0) expectDenseClose(got, ref, mag, dx!, B * I, `dx ${tag}`);
      if (dwo >= 0) expectDenseClose(got, ref, mag, dw!, O * I, `dw ${tag}`);
      if (dbo >= 0) expectDenseClose(got, ref, mag, db!, O, `db ${tag}`);
      const fast = before.slice();
      denseBackward(fast, dxo, dwo, dbo, dy!, x!, w!, B, I, O);
      if (dxo >= 0) expectDenseClose(got, fast, mag, dx!, B * I, `dx-vs-fast ${tag}`);
      if (dwo >= 0) expectDenseClose(got, fast, mag, dw!, O * I, `dw-vs-fast ${tag}`);
    }
  });
});

/** values that exercise every branch: signs, zeros of both signs, NaN, infinities, subnormals */
function special(rng: Rng, n: number): number[] {
  const pool = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40, 3.4e38, -3.4e38, 1, -1];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.next() < 0.3 ? pool[rng.int(pool.length)]! : rng.uniform(-4, 4));
  return out;
}

function expectBitExact(got: Float32Array, want: Float32Array, at: number, n: number, what: string): void {
  for (let i = 0; i < n; i++) {
    const g = got[at + i]!, w = want[at + i]!;
    const same = Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w));
    if (!same) throw new Error(`${what}[${i}]: wasm ${g} vs JS ${w}`);
  }
}

describe('wasm elementwise activations: bit-exact with the JS kernels', () => {
  const slopes = [0.01, 0.2, -0.5, 1 / 3];
  for (const n of [...SIZES, 1000]) {
    it(`n = ${n}: relu and leaky relu, forward and backward`, () => {
      const rng = new Rng(100 + n);
      for (const slope of slopes) {
        const [x, y, dy, dx] = layout([n, n, n, n], 1 + (n % 3));
        a.set(special(rng, n), x!); a.set(special(rng, n), dy!); a.set(special(rng, n), dx!);
        // relu forward / backward (backward reads the output y)
        let before = a.slice(0, extent);
        k.reluForward(y!, x!, n);
        k.reluBackward(dx!, dy!, y!, n);
        let want = before.slice();
        reluForward(want, y!, x!, n);
        reluBackward(want, dx!, dy!, y!, n);
        expectBitExact(a, want, 0, extent, `relu n=${n}`);
        // leaky relu forward / backward (backward reads the input x)
        before = a.slice(0, extent);
        k.leakyReluForward(y!, x!, n, slope);
        k.leakyReluBackward(dx!, dy!, x!, n, slope);
        want = before.slice();
        leakyReluForward(want, y!, x!, n, Float64Array.of(slope));
        leakyReluBackward(want, dx!, dy!, x!, n, Float64Array.of(slope));
        expectBitExact(a, want, 0, extent, `leaky n=${n} slope=${slope}`);
      }
    });
  }

  it('in place (y = x) works like the JS kernels', () => {
    const rng = new Rng(7);
    const [x] = layout([33]);
    a.set(special(rng, 33), x!);
    const want = a.slice(0, extent);
    k.leakyReluForward(x!, x!, 33, 0.1);
    leakyReluForward(want, x!, x!, 33, Float64Array.of(0.1));
    expectBitExact(a, want, 0, extent, 'in-place leaky');
  });
});

const OPTIMIZERS: OptimizerConfig[] = [
  { kind: 'sgd', lr: 0.1 },
  { kind: 'sgd', lr: 0.05, momentum: 0.9 },
  { kind: 'sgd', lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 1e-2 },
  { kind: 'sgd', lr: 0.01, momentum: 0.8, nesterov: true, weightDecay: 5e-4, maximize: true },
  { kind: 'adam', lr: 1e-2 },
  { kind: 'adam', lr: 3e-3, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 1e-2 },
  { kind: 'adam', lr: 1e-3, amsgrad: true, maximize: true },
  { kind: 'adamw', lr: 1e-2 },
  { kind: 'adamw', lr: 2e-3, weightDecay: 0.1, amsgrad: true },
];

function makeOpt(cfg: OptimizerConfig): SgdOptimizer | AdamOptimizer {
  return cfg.kind === 'sgd' ? new SgdOptimizer(cfg) : new AdamOptimizer(cfg);
}

describe('wasm optimizer steps: bit-exact with SgdOptimizer / AdamOptimizer over 6 steps', () => {
  for (const cfg of OPTIMIZERS) {
    it(JSON.stringify(cfg), () => {
      for (const n of [1, 3, 4, 17, 33, 257, 1001]) {
        const rng = new Rng(n * 7 + cfg.kind.length);
        const opt = makeOpt(cfg);
        const spf = opt.stateFloatsPerParam;
        const [p, g, s] = layout([n, n, Math.max(1, spf * n)], 3);
        fill(a, p!, n, rng);
        a.fill(0, s!, s! + spf * n);
        const js = a.slice(0, extent);
        const wasmStep = wasmOptimizerStep(k, opt);
        for (let t = 1; t <= 6; t++) {
          for (let i = 0; i < n; i++) {
            // gradients of mixed magnitude, some exactly zero
            const v = rng.next() < 0.1 ? 0 : rng.uniform(-1, 1) * 10 ** rng.int(4 - 2);
            a[g! + i] = v; js[g! + i] = v;
          }
          if (t === 4) opt.lr *= 0.5;                             // a schedule changing lr
          wasmStep(a, p!, g!, s!, n, t);
          opt.step(js, p!, g!, s!, n, t);
          expectBitExact(a, js, 0, extent, `n=${n} t=${t}`);
        }
      }
    });
  }
});

function denseInt8Ref(i32: Int32Array, i8: Int8Array, y: number, x: number, w: number, bias: number,
                      B: number, I: number, O: number): void {
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      let s = bias >= 0 ? i32[bias + o]! : 0;
      for (let i = 0; i < I; i++) s += i8[x + b * I + i]! * i8[w + o * I + i]!;
      i32[y + b * O + o] = s;
    }
  }
}

describe('wasm int8 dense (int32 accumulation): exact', () => {
  it('every shape, extreme values included, with and without bias', () => {
    const i8 = new Int8Array(k.buffer), i32 = new Int32Array(k.buffer);
    const rng = new Rng(5);
    for (const [B, I, O] of SHAPES) {
      for (const withBias of [true, false]) {
        const end = 4 * (Math.ceil((3 + B * I + 5 + O * I + 7) / 4) + 1 + O + 2 + B * O + 3);
        i8.fill(99, 0, end);
        // x and w at odd byte offsets; y and bias int32 indices after them
        const x = 3, w = x + B * I + 5, yb = Math.ceil((w + O * I + 7) / 4) + 1, y = yb + O + 2;
        for (let i = 0; i < B * I; i++) i8[x + i] = rng.next() < 0.1 ? -128 : rng.int(256) - 128;
        for (let i = 0; i < O * I; i++) i8[w + i] = rng.next() < 0.1 ? -128 : rng.int(256) - 128;
        for (let i = 0; i < O; i++) i32[yb + i] = rng.int(2000001) - 1000000;
        const bias = withBias ? yb : -1;
        const want = i32.slice(0, end >> 2);
        const wantI8 = new Int8Array(want.buffer);
        denseInt8Ref(want, wantI8, y, x, w, bias, B, I, O);
        k.denseInt8(y, x, w, bias, B, I, O);
        let bad = -1;
        for (let i = 0; i < want.length && bad < 0; i++) if (i32[i] !== want[i]) bad = i;
        expect(bad, `${B}x${I}x${O} first differing int32 index`).toBe(-1);
      }
    }
  });
});

describe('wasm dispatch adapters (JS kernel signatures)', () => {
  it('denseForward / denseBackward through makeWasmDispatch equal the direct calls', () => {
    const d = makeWasmDispatch(k);
    const rng = new Rng(3);
    const [x, w, b, y, y2] = layout([2 * 5, 3 * 5, 3, 2 * 3, 2 * 3]);
    fill(a, x!, 10, rng); fill(a, w!, 15, rng); fill(a, b!, 3, rng);
    d.denseForward(a, y!, x!, w!, b!, 2, 5, 3);
    k.denseForward(y2!, x!, w!, b!, 2, 5, 3, DenseAct.None, 0);
    expect(Array.from(a.subarray(y!, y! + 6))).toEqual(Array.from(a.subarray(y2!, y2! + 6)));
  });
});

describe('wasm int8 dense composes to runtime/quant/int8.ts int8DenseForward (exact)', () => {
  // The wasm kernel is the int32 accumulation core: with the input zero point folded into the
  // bias at plan time (bias' = bias - zx * sum_i w[o, i]; symmetric weights, zw = 0, the default of
  // the quantization issue) and the same requantization applied after, the codes are identical.
  it('int8 activations, per-channel multipliers, every shape', () => {
    const i8 = new Int8Array(k.buffer), i32 = new Int32Array(k.buffer);
    const rng = new Rng(9);
    for (const [B, I, O] of SHAPES) {
      const x = 16, w = x + B * I + 16;
      const q = Math.ceil((w + O * I + 16) / 4);                   // int32 region: q..
      const bias = q, biasF = q + O + 1, wZero = biasF + O + 1, mul = wZero + O + 1, sh = mul + O + 1, acc = sh + O + 1;
      for (let i = 0; i < B * I; i++) i8[x + i] = rng.int(256) - 128;
      for (let i = 0; i < O * I; i++) i8[w + i] = rng.int(255) - 127;
      const xZero = rng.int(256) - 128, yZero = rng.int(21) - 10;
      for (let o = 0; o < O; o++) {
        i32[bias + o] = rng.int(20001) - 10000;
        i32[wZero + o] = 0;
        quantizeMultiplierInto(i32, mul + o, sh + o, 0.0005 + 0.004 * rng.next());
        let sw = 0;
        for (let i = 0; i < I; i++) sw += i8[w + o * I + i]!;
        i32[biasF + o] = i32[bias + o]! - xZero * sw;             // plan-time fold
      }
      const want = new Int8Array(B * O), got = new Int8Array(B * O);
      int8DenseForward(want, 0, i8, x, i8, w, i32, bias, wZero, mul, sh, xZero, yZero, -128, 127, B, I, O);
      k.denseInt8(acc, x, w, biasF, B, I, O);
      for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) {
        const v = yZero + multiplyByQuantizedMultiplier(i32[acc + b * O + o]!, i32[mul + o]!, i32[sh + o]!);
        got[b * O + o] = v < -128 ? -128 : v > 127 ? 127 : v;
      }
      expect(Array.from(got), `${B}x${I}x${O}`).toEqual(Array.from(want));
    }
  });
});

describe('wasm int8 requantization: bit-exact with int8RequantizeRows (TFLite double rounding)', () => {
  it('random and extreme accumulators, multipliers from 2^-32 to 2^8, int8 and uint8 outputs, fused clamps', () => {
    const i32 = new Int32Array(k.buffer), i8 = new Int8Array(k.buffer), u8 = new Uint8Array(k.buffer);
    const rng = new Rng(21);
    const EXTREMES = [0, 1, -1, 2147483647, -2147483648, 1073741824, -1073741824, 65535, -65536, 12345678, -12345678];
    for (let trial = 0; trial < 40; trial++) {
      const rows = 1 + rng.int(5), O = 1 + rng.int(37);
      const rq = 64, acc = rq + 4 * O + 8, yByte = (acc + rows * O + 8) * 4 + 3; // y at an odd byte
      for (let o = 0; o < O; o++) {
        const real = trial === 0 && o === 0 ? 1 : 2 ** (-32 + 40 * rng.next()) * (rng.next() < 0.05 ? -1 : 1);
        quantizeMultiplierInto(i32, rq + O + o, rq + 2 * O + o, real);
        if (rng.next() < 0.05) i32[rq + O + o] = -2147483648;       // the saturating corner
      }
      for (let i = 0; i < rows * O; i++) {
        i32[acc + i] = rng.next() < 0.3 ? EXTREMES[rng.int(EXTREMES.length)]! : rng.int(2000001) - 1000000;
      }
      const signed = trial % 2 === 0;
      const yZero = signed ? rng.int(41) - 20 : rng.int(256);
      const [actMin, actMax] = signed ? (trial % 4 === 0 ? [yZero, 127] : [-128, 127]) : (trial % 4 === 1 ? [yZero, 255] : [0, 255]);
      const views = { i8, u8 };
      const want = new Int32Array(rows * O);
      // the JS twin into a copy of the output bytes, then the wasm kernel into the arena
      int8RequantizeRows(i32, views, signed, yByte, acc, rq, yZero, actMin, actMax, rows, O);
      for (let i = 0; i < rows * O; i++) want[i] = signed ? i8[yByte + i]! : u8[yByte + i]!;
      const before = u8[yByte - 1]!, after = u8[yByte + rows * O]!;
      (signed ? i8 : u8).fill(0x55, yByte, yByte + rows * O);
      k.requantizeInt8(yByte, acc, rq, rows, O, yZero, actMin, actMax);
      const got = Array.from({ length: rows * O }, (_, i) => (signed ? i8[yByte + i]! : u8[yByte + i]!));
      expect(got, `trial ${trial}`).toEqual(Array.from(want));
      expect([u8[yByte - 1], u8[yByte + rows * O]]).toEqual([before, after]);
    }
  });

  it('the nudge of a negative product: multiplier 0.5 (2^30, shift 0) on odd negative sums', () => {
    // (x * 2^30 + 1 - 2^30) / 2^31 truncated: x = -3 gives -1, not the -2 that a nudge of -2^30 or
    // a floor division would give: gemmlowp rounds a negative tie toward zero here
    const i32 = new Int32Array(k.buffer), i8 = new Int8Array(k.buffer);
    const xs = [-1, -3, -5, -7, -9, 1, 3, 5, -2, -4, -255, -257];
    const O = xs.length, rq = 64, acc = rq + 4 * O, y = (acc + O) * 4;
    for (let o = 0; o < O; o++) { quantizeMultiplierInto(i32, rq + O + o, rq + 2 * O + o, 0.5); i32[acc + o] = xs[o]!; }
    expect(i32[rq + O]).toBe(1073741824);
    expect(i32[rq + 2 * O]).toBe(0);
    k.requantizeInt8(y, acc, rq, 1, O, 0, -128, 127);
    const got = Array.from(i8.subarray(y, y + O));
    expect(got).toEqual(xs.map((x) => multiplyByQuantizedMultiplier(x, 1073741824, 0)));
    expect(got.slice(0, 5)).toEqual([0, -1, -2, -3, -4]); // -0.5, -1.5, ... -4.5
  });
});

describe('wasm int8 quantization: bit-exact with quantizeForward (per tensor)', () => {
  it('torch and onnx rounding, ties, NaN, +-Inf, huge values, int8 / uint8 / narrow ranges, every length', () => {
    const i8 = new Int8Array(k.buffer), u8 = new Uint8Array(k.buffer);
    const rng = new Rng(33);
    const SPECIAL = [NaN, Infinity, -Infinity, 3e38, -3e38, 0, -0, 1e-45, -1e-45];
    for (let trial = 0; trial < 60; trial++) {
      const n = trial < 9 ? trial : 1 + rng.int(300);
      const qp = 8, x = 16, qByte = (x + n + 4) * 4 + 1;             // codes at an odd byte
      const scale = Math.fround(2 ** (-12 + 14 * rng.next()));
      const signed = trial % 2 === 0;
      const [qmin, qmax] = signed ? (trial % 3 === 0 ? [-127, 127] : [-128, 127]) : (trial % 3 === 0 ? [0, 15] : [0, 255]);
      const zp = qmin + rng.int(qmax - qmin + 1);
      a[qp] = scale; a[qp + 1] = zp;
      for (let i = 0; i < n; i++) {
        const r = rng.next();
        a[x + i] = r < 0.1 ? SPECIAL[rng.int(SPECIAL.length)]!
          : r < 0.4 ? (rng.int(401) - 200 + 0.5) * scale               // exact ties (for the 'onnx' quotient)
            : rng.uniform(-300, 300) * scale;
      }
      for (const mode of ['torch', 'onnx'] as const) {
        const view = signed ? i8 : u8;
        view.fill(0x5a, qByte - 1, qByte + n + 1);
        quantizeForward(view, qByte, a, x, qp, qp + 1, 1, 1, n, qmin, qmax, mode);
        const want = Array.from(view.subarray(qByte - 1, qByte + n + 1));
        view.fill(0x5a, qByte - 1, qByte + n + 1);
        k.quantizeInt8(qByte, x, qp, n, qmin, qmax, mode === 'onnx' ? 1 : 0);
        expect(Array.from(view.subarray(qByte - 1, qByte + n + 1)), `trial ${trial} ${mode}`).toEqual(want);
      }
    }
  });
});
