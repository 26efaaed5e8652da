// int8.ts: the fixed-point requantization against a BigInt transcription of TFLite/gemmlowp
// (bit-exact) and against float64 (within its proven error), quantize/dequantize against the
// ONNX reference functions and the upstream ONNX node tests (exact: integer codes and float32
// products), the integer dense/conv1d against their naive twins (bit-exact) and against the
// float path dequantize -> float64 dense -> quantize (within one output step: the fixed-point
// multiplier and the two roundings of requantization move a result by at most one code).
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { Rng } from '../../../runtime/random.js';
import { FIXTURES, expectClose } from '../../helpers/reference.js';
import { readBackendTestFolder } from '../../../importers/onnx/backend-test-layout.js';
import type { OnnxNode } from '../../../importers/onnx/model.js';
import {
  saturatingRoundingDoublingHighMul, roundingDivideByPOT, multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierRef,
  quantizeMultiplier, quantizeForward, dequantizeForward, quantizeLinearRef, dequantizeLinearRef,
  int8DenseForward, int8DenseForwardRef, int8Conv1dForward, int8Conv1dForwardRef, prepareInt8Linear, type QuantArray,
} from '../../../runtime/quant/int8.js';
import { fakeQuantForward, roundHalfEven } from '../../../runtime/quant/fake-quant.js';
import { channelView } from '../../../runtime/quant/qparams.js';
import { conv1dOutLength } from '../../../runtime/ops/conv1d.js';
import { EdgennError } from '../../../runtime/errors.js';

const I32_MIN = -2147483648, I32_MAX = 2147483647;
const exact = { abs: 0, rel: 0 };

function srdhmBig(a: number, b: number): number {
  if (a === I32_MIN && b === I32_MIN) return I32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number(BigInt.asIntN(32, (ab + nudge) / (1n << 31n)));
}

describe('fixed-point requantization', () => {
  const rng = new Rng(99);
  const randI32 = (): number => (rng.int(4294967296) - 2147483648) | 0;
  it('SaturatingRoundingDoublingHighMul equals the 64-bit definition (extremes + 300 000 random pairs)', () => {
    const special = [I32_MIN, I32_MIN + 1, -1073741824, -65537, -65536, -32768, -1, 0, 1, 32767, 65535, 65536, 1073741824, I32_MAX - 1, I32_MAX];
    for (const a of special) for (const b of special) expect(saturatingRoundingDoublingHighMul(a, b), `${a}*${b}`).toBe(srdhmBig(a, b));
    for (let i = 0; i < 300000; i++) {
      const a = randI32(), b = i % 2 === 0 ? randI32() : 1073741824 + rng.int(1073741824);
      const got = saturatingRoundingDoublingHighMul(a, b);
      if (got !== srdhmBig(a, b)) expect(got, `${a}*${b}`).toBe(srdhmBig(a, b));
    }
  });
  it('RoundingDivideByPOT rounds half away from zero for every exponent 0..31', () => {
    for (let e = 0; e <= 31; e++) {
      for (const x0 of [0, 1, -1, 3, -3, I32_MIN, I32_MAX, 2 ** e, -(2 ** Math.min(e, 30)), (2 ** e) * 1.5, (2 ** e) * 2.5]) {
        const x = x0 | 0;
        const want = Math.sign(x) * Math.floor(Math.abs(x) / 2 ** e + 0.5);
        expect(roundingDivideByPOT(x, e), `${x} / 2^${e}`).toBe(want + 0);
      }
    }
  });
  it('quantizeMultiplier: M0 in [2^30, 2^31) and M0 * 2^(shift-31) within 2^-31 relative', () => {
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ multiplier: 2 ** 30, shift: 1 }); // rounds up to 2^31: halved
    expect(quantizeMultiplier(2 ** -40)).toEqual({ multiplier: 0, shift: 0 }); // flushed like TFLite
    for (let i = 0; i < 20000; i++) {
      const real = Math.exp(rng.uniform(Math.log(1e-7), Math.log(100)));
      const { multiplier, shift } = quantizeMultiplier(real);
      expect(multiplier >= 2 ** 30 && multiplier < 2 ** 31).toBe(true);
      expect(Math.abs(multiplier * 2 ** (shift - 31) - real)).toBeLessThanOrEqual(real * 2 ** -31);
    }
  });
  it('MultiplyByQuantizedMultiplier: bit-exact vs the BigInt twin, within 1 + |x M| 2^-31 of float64', () => {
    // float64 bound: the multiplier carries relative error <= 2^-31, each of the two roundings <= 1/2
    let mismatches = 0;
    for (let i = 0; i < 200000; i++) {
      const real = Math.exp(rng.uniform(Math.log(1e-6), Math.log(4)));
      const { multiplier, shift } = quantizeMultiplier(real);
      const x = i % 3 === 0 ? randI32() >> rng.int(31) : rng.int(2000001) - 1000000;
      const got = multiplyByQuantizedMultiplier(x, multiplier, shift);
      if (got !== multiplyByQuantizedMultiplierRef(x, multiplier, shift)) mismatches++;
      const prod = x * real;
      if (Math.abs(prod) < 2 ** 30) expect(Math.abs(got - prod)).toBeLessThanOrEqual(1 + Math.abs(prod) * 2 ** -31);
    }
    expect(mismatches).toBe(0);
  });
});

describe('quantize / dequantize', () => {
  const rng = new Rng(5);
  for (const dtype of ['int8', 'uint8'] as const) {
    for (const axis of [0, 1, 2]) {
      it(`${dtype} axis ${axis}: quantizeForward('onnx') equals quantizeLinearRef; round trip equals fake-quant`, () => {
        const shape = [2, 3, 4];
        const { outer, C, inner } = channelView(shape, axis);
        const n = outer * C * inner;
        const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
        const a = new Float32Array(3 * n + 2 * C);
        const X = 0, Y = n, FQ = 2 * n, S = 3 * n, Z = S + C;
        const scale = new Float32Array(C), zp = new Int32Array(C);
        for (let c = 0; c < C; c++) { scale[c] = a[S + c] = rng.uniform(0.01, 0.1); zp[c] = a[Z + c] = lo + rng.int(hi - lo + 1); }
        for (let i = 0; i < n; i++) {
          const c = Math.floor(i / inner) % C;
          a[X + i] = i % 3 === 0 ? Math.fround((rng.int(100) - 50 + 0.5) * scale[c]!) : rng.normal() * 10;
        }
        const q: QuantArray = dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
        quantizeForward(q, 0, a, X, S, Z, outer, C, inner, lo, hi, 'onnx');
        const ref = quantizeLinearRef(a.subarray(X, X + n), shape, scale, zp, axis, dtype);
        expectClose('q', q, ref, exact);
        expect(q.constructor).toBe(ref.constructor);
        dequantizeForward(a, Y, q, 0, S, Z, outer, C, inner);
        expectClose('dequantized', a.subarray(Y, Y + n), dequantizeLinearRef(q, shape, scale, zp, axis), exact);
        fakeQuantForward(a, FQ, X, S, Z, outer, C, inner, lo, hi, 'onnx');
        expectClose('fake-quant = dequantize(quantize)', a.subarray(Y, Y + n), a.subarray(FQ, FQ + n), exact);
      });
    }
  }
  it('saturates and maps NaN to the zero point', () => {
    const a = new Float32Array([1e9, -1e9, Infinity, -Infinity, NaN, 0.26, 0.1, 5]);
    const q = new Int8Array(6);
    quantizeForward(q, 0, a, 0, 6, 7, 1, 1, 6, -128, 127);
    expect(Array.from(q)).toEqual([127, -128, 127, -128, 5, 8]);
  });
  it('ONNX per-axis shape errors are EdgennError', () => {
    expect(() => quantizeLinearRef([1, 2, 3, 4], [2, 2], [1, 2, 3], null, 1, 'uint8')).toThrow(EdgennError);
    expect(() => dequantizeLinearRef([1, 2], [2], [1, 2], [0], 0)).toThrow(EdgennError);
  });
});

describe('ONNX node tests (upstream onnx backend data)', () => {
  const dir = (t: string): string => join(FIXTURES, 'onnx-node-tests', t);
  const axisOf = (n: OnnxNode): number => { const a = n.attributes.get('axis'); return a?.type === 'int' ? a.value : 1; };
  for (const t of ['test_quantizelinear', 'test_quantizelinear_axis']) {
    it(t, () => {
      const c = readBackendTestFolder(dir(t));
      const [x, s, z] = c.dataSets[0]!.inputs;
      const y = c.dataSets[0]!.outputs[0]!;
      const dtype = z!.data instanceof Int8Array ? 'int8' : 'uint8';
      const q = quantizeLinearRef(x!.data as Float32Array, x!.dims, s!.data as Float32Array, z!.data as Uint8Array, axisOf(c.model.graph.nodes[0]!), dtype);
      expectClose('y', q, y.data as Uint8Array, exact);
    });
  }
  for (const t of ['test_dequantizelinear', 'test_dequantizelinear_axis']) {
    it(t, () => {
      const c = readBackendTestFolder(dir(t));
      const [x, s, z] = c.dataSets[0]!.inputs;
      const y = c.dataSets[0]!.outputs[0]!;
      const r = dequantizeLinearRef(x!.data as Uint8Array, x!.dims, s!.data as Float32Array, z!.data as Uint8Array, axisOf(c.model.graph.nodes[0]!));
      expectClose('y', r, y.data as Float32Array, exact);
    });
  }
  for (const t of ['test_qlinearmatmul_2D_uint8_float32', 'test_qlinearmatmul_2D_int8_float32']) {
    it(`${t} through int8DenseForward (within one output step; ONNX rescales in float)`, () => {
      const c = readBackendTestFolder(dir(t));
      const [A, sa, za, Bm, sb, zb, sy, zy] = c.dataSets[0]!.inputs;
      const y = c.dataSets[0]!.outputs[0]!;
      const [M, K] = A!.dims as [number, number], N = Bm!.dims[1]!;
      const wq = new Int16Array(N * K); // B is (K, N); the dense weight is (N, K)
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) wq[j * K + k] = (Bm!.data as Uint8Array)[k * N + j]!;
      const f0 = (t: typeof A): number => (t!.data as Float32Array)[0]!;
      const { multiplier, shift } = quantizeMultiplier((f0(sa) * f0(sb)) / f0(sy));
      const signed = y.data instanceof Int8Array;
      const i32 = new Int32Array(3 * N);
      i32.fill((zb!.data as Uint8Array)[0]!, 0, N); i32.fill(multiplier, N, 2 * N); i32.fill(shift, 2 * N);
      const x8: QuantArray = signed ? new Int8Array(A!.data as Int8Array) : new Uint8Array(A!.data as Uint8Array);
      const w8: QuantArray = signed ? Int8Array.from(wq) : Uint8Array.from(wq);
      const out: QuantArray = signed ? new Int8Array(M * N) : new Uint8Array(M * N);
      int8DenseForward(out, 0, x8, 0, w8, 0, i32, -1, 0, N, 2 * N, (za!.data as Uint8Array)[0]!, (zy!.data as Uint8Array)[0]!,
        signed ? -128 : 0, signed ? 127 : 255, M, K, N);
      expectClose('y', out, y.data as Uint8Array, { abs: 1, rel: 0 });
    });
  }
});

/** Random quantized dense layer through prepareInt8Linear (per-channel or per-tensor weights). */
function randomLinear(rng: Rng, O: number, F: number, perChannel: boolean, relu: boolean, signedX: boolean) {
  const w = Float32Array.from({ length: O * F }, () => rng.normal() * 0.3);
  const bias = Float32Array.from({ length: O }, () => rng.normal() * 0.5);
  const ws = Float32Array.from({ length: perChannel ? O : 1 }, () => rng.uniform(0.002, 0.01));
  const [xlo, xhi] = signedX ? [-128, 127] : [0, 255];
  const spec = { weight: w, O, bias, weightScale: ws, inputScale: Math.fround(0.02), inputZero: signedX ? -3 : 128,
    outputScale: Math.fround(rng.uniform(0.02, 0.08)), outputZero: signedX ? 5 : 120, outputQmin: xlo, outputQmax: xhi, relu };
  return { spec, p: prepareInt8Linear(spec), xlo, xhi };
}

function pack(p: ReturnType<typeof prepareInt8Linear>, O: number): Int32Array {
  const i32 = new Int32Array(4 * O);
  i32.set(p.bias!, 0); i32.set(p.weightZero, O); i32.set(p.multiplier, 2 * O); i32.set(p.shift, 3 * O);
  return i32;
}

describe('int8 dense', () => {
  const rng = new Rng(17);
  for (const [B, I, O, perChannel, relu, signedX] of [[1, 1, 1, false, false, false], [4, 16, 32, true, true, false],
    [7, 33, 5, true, false, true], [3, 257, 4, false, true, true]] as const) {
    it(`B=${B} I=${I} O=${O} ${perChannel ? 'per-channel' : 'per-tensor'}${relu ? ' +relu' : ''} ${signedX ? 'int8' : 'uint8'} x`, () => {
      const { spec, p, xlo, xhi } = randomLinear(rng, O, I, perChannel, relu, signedX);
      const i32 = pack(p, O);
      const xq: QuantArray = signedX ? new Int8Array(B * I) : new Uint8Array(B * I);
      for (let i = 0; i < xq.length; i++) xq[i] = xlo + rng.int(xhi - xlo + 1);
      const y: QuantArray = signedX ? new Int8Array(B * O) : new Uint8Array(B * O);
      const yr: QuantArray = signedX ? new Int8Array(B * O) : new Uint8Array(B * O);
      int8DenseForward(y, 0, xq, 0, p.weight, 0, i32, 0, O, 2 * O, 3 * O, spec.inputZero, spec.outputZero, p.actMin, p.actMax, B, I, O);
      int8DenseForwardRef(yr, 0, xq, 0, p.weight, 0, i32, 0, O, 2 * O, 3 * O, spec.inputZero, spec.outputZero, p.actMin, p.actMax, B, I, O);
      expectClose('twin', y, yr, exact);
      // float path: dequantize x, w, bias -> float64 dense (+relu) -> quantize to the output grid
      const want = new Float64Array(B * O);
      for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) {
        const sw = Math.fround(spec.weightScale[perChannel ? o : 0]!);
        let s = p.bias![o]! * Math.fround(spec.inputScale * sw);
        for (let i = 0; i < I; i++) s += (xq[b * I + i]! - spec.inputZero) * spec.inputScale * (p.weight[o * I + i]! - p.weightZero[o]!) * sw;
        if (relu) s = Math.max(s, 0);
        want[b * O + o] = Math.min(Math.max(roundHalfEven(s / spec.outputScale) + spec.outputZero, spec.outputQmin), spec.outputQmax);
      }
      expectClose('vs float path (one step)', y, want, { abs: 1, rel: 0 });
    });
  }
  it('prepareInt8Linear refuses bad sizes and scales', () => {
    const base = { weight: new Float32Array(6), O: 2, bias: null, weightScale: [0.1], inputScale: 0.1, inputZero: 0,
      outputScale: 0.1, outputZero: 0, outputQmin: 0, outputQmax: 255 };
    expect(() => prepareInt8Linear({ ...base, O: 4 })).toThrow(EdgennError);
    expect(() => prepareInt8Linear({ ...base, weightScale: [0.1, 0.2, 0.3] })).toThrow(EdgennError);
    expect(() => prepareInt8Linear({ ...base, weightScale: [0] })).toThrow(EdgennError);
    expect(() => prepareInt8Linear({ ...base, bias: [1] })).toThrow(EdgennError);
    expect(() => prepareInt8Linear({ ...base, outputScale: -1 })).toThrow(EdgennError);
  });
});

describe('int8 conv1d', () => {
  const rng = new Rng(23);
  for (const [B, C, L, O, K, s, pad, d] of [[1, 1, 5, 1, 1, 1, 0, 1], [2, 3, 17, 4, 3, 2, 1, 1], [2, 2, 20, 3, 5, 1, 2, 2]] as const) {
    it(`B=${B} C=${C} L=${L} O=${O} K=${K} s=${s} p=${pad} d=${d}: twin exact, float path within one step`, () => {
      const T = conv1dOutLength(L, K, s, pad, d);
      const { spec, p } = randomLinear(rng, O, C * K, true, false, false);
      const i32 = pack(p, O);
      const xq = Uint8Array.from({ length: B * C * L }, () => rng.int(256));
      const y = new Uint8Array(B * O * T), yr = new Uint8Array(B * O * T);
      int8Conv1dForward(y, 0, xq, 0, p.weight, 0, i32, 0, O, 2 * O, 3 * O, spec.inputZero, spec.outputZero, p.actMin, p.actMax, B, C, L, O, K, T, s, pad, d);
      int8Conv1dForwardRef(yr, 0, xq, 0, p.weight, 0, i32, 0, O, 2 * O, 3 * O, spec.inputZero, spec.outputZero, p.actMin, p.actMax, B, C, L, O, K, T, s, pad, d);
      expectClose('twin', y, yr, exact);
      const want = new Float64Array(B * O * T);
      for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let t = 0; t < T; t++) {
        const sw = Math.fround(spec.weightScale[o]!);
        let acc = p.bias![o]! * Math.fround(spec.inputScale * sw);
        for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) {
          const pos = t * s - pad + k * d;
          if (pos < 0 || pos >= L) continue;
          acc += (xq[(b * C + c) * L + pos]! - spec.inputZero) * spec.inputScale * (p.weight[(o * C + c) * K + k]! - p.weightZero[o]!) * sw;
        }
        want[(b * O + o) * T + t] = Math.min(Math.max(roundHalfEven(acc / spec.outputScale) + spec.outputZero, 0), 255);
      }
      expectClose('vs float path (one step)', y, want, { abs: 1, rel: 0 });
    });
  }
});
