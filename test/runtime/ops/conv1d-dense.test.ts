// conv1d against PyTorch (every conv1d case with a bare conv: stride/padding variants), and the
// fast dense/conv1d kernels against their naive twins on awkward shapes (1, 3, 17, 33, 257).
// Fixture tolerance is the case's (abs 1e-5, rel 1e-4); twin tolerance abs 1e-5 + rel 1e-5
// (float32 storage of sums taken in a different order).
import { describe, it, expect } from 'vitest';
import { casesOfKind, loadCase, f32, expectClose, toleranceFor } from '../../helpers/reference.js';
import { Rng } from '../../../runtime/random.js';
import { conv1dForward, conv1dBackward, conv1dForwardRef, conv1dOutLength } from '../../../runtime/ops/conv1d.js';
import { denseForward, denseBackward, denseForwardRef, denseBackwardRef } from '../../../runtime/ops/dense.js';

const convCases = casesOfKind('conv1d').filter((n) => loadCase(n).layers === undefined);

describe('conv1d matches PyTorch', () => {
  it('has cases', () => expect(convCases.length).toBeGreaterThanOrEqual(4));
  for (const name of convCases) {
    it(name, () => {
      const c = loadCase(name);
      const p = c.params as Record<string, number>;
      const [B, C, L] = c.inputs['x']!.shape as [number, number, number];
      const [O, , K] = c.inputs['weight']!.shape as [number, number, number];
      const T = conv1dOutLength(L, K, p['stride']!, p['padding']!, p['dilation'] ?? 1);
      expect(T).toBe(p['L_out']);
      const nx = B * C * L, nw = O * C * K, ny = B * O * T;
      // layout: x | w | b | y | g | dx | dw | db
      const a = new Float32Array(2 * (nx + nw + O) + 2 * ny);
      const X = 0, W = nx, Bi = nx + nw, Y = Bi + O, G = Y + ny, DX = G + ny, DW = DX + nx, DB = DW + nw;
      a.set(f32(c.inputs['x']!), X); a.set(f32(c.inputs['weight']!), W); a.set(f32(c.inputs['bias']!), Bi);
      a.set(f32(c.inputs['g']!), G);
      conv1dForward(a, Y, X, W, Bi, B, C, L, O, K, T, p['stride']!, p['padding']!, p['dilation'] ?? 1);
      conv1dBackward(a, DX, DW, DB, G, X, W, B, C, L, O, K, T, p['stride']!, p['padding']!, p['dilation'] ?? 1);
      expectClose('y', a.subarray(Y, Y + ny), f32(c.expected['y']!), toleranceFor(c, 'y'));
      expectClose('dx', a.subarray(DX, DX + nx), f32(c.expected['dx']!), toleranceFor(c, 'dx'));
      expectClose('dweight', a.subarray(DW, DW + nw), f32(c.expected['dweight']!), toleranceFor(c, 'dweight'));
      expectClose('dbias', a.subarray(DB, DB + O), f32(c.expected['dbias']!), toleranceFor(c, 'dbias'));
    });
  }
});

describe('fast kernels match their naive twins', () => {
  const tol = { abs: 1e-5, rel: 1e-5 };
  const rng = new Rng(11);
  const fill = (a: Float32Array, from: number, n: number): void => { for (let i = 0; i < n; i++) a[from + i] = rng.normal(); };
  for (const [B, I, O] of [[1, 1, 1], [1, 257, 3], [3, 17, 33], [17, 33, 1], [2, 3, 257]] as const) {
    it(`dense B=${B} I=${I} O=${O}`, () => {
      const nx = B * I, nw = O * I, ny = B * O;
      const a = new Float32Array(nx + nw + O + ny);
      fill(a, 0, nx + nw + O + ny);
      const r = a.slice();
      denseForward(a, nx + nw + O, 0, nx, nx + nw, B, I, O);
      denseForwardRef(r, nx + nw + O, 0, nx, nx + nw, B, I, O);
      expectClose('y', a, r, tol);
      // backward into fresh grad buffers: dy = y region reused as upstream
      const g = new Float32Array(a.length + nx + nw + O), gr = new Float32Array(g.length);
      g.set(a); gr.set(a);
      const D = a.length;
      denseBackward(g, D, D + nx, D + nx + nw, nx + nw + O, 0, nx, B, I, O);
      denseBackwardRef(gr, D, D + nx, D + nx + nw, nx + nw + O, 0, nx, B, I, O);
      expectClose('grads', g.subarray(D), gr.subarray(D), tol);
    });
  }
  for (const [B, C, L, O, K, s, p, d] of [[1, 1, 1, 1, 1, 1, 0, 1], [3, 2, 17, 3, 5, 2, 2, 1], [2, 3, 33, 4, 3, 1, 1, 3]] as const) {
    it(`conv1d B=${B} C=${C} L=${L} O=${O} K=${K}`, () => {
      const T = conv1dOutLength(L, K, s, p, d);
      const nx = B * C * L, nw = O * C * K;
      const a = new Float32Array(nx + nw + O + B * O * T);
      fill(a, 0, nx + nw + O);
      const r = a.slice();
      conv1dForward(a, nx + nw + O, 0, nx, nx + nw, B, C, L, O, K, T, s, p, d);
      conv1dForwardRef(r, nx + nw + O, 0, nx, nx + nw, B, C, L, O, K, T, s, p, d);
      expectClose('y', a, r, tol);
    });
  }
});
