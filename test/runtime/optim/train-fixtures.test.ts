// The optimizers inside real PyTorch training runs (fixtures kind 'train': small MLPs trained with
// torch.optim.SGD / Adam for tens of steps). The model is replayed here by a tiny test-only MLP
// (Linear / ReLU / Tanh layers + mean cross-entropy, forward and backward written out), so the
// optimizer is the only edgenn code under test; the lead's trainer tests run the real runtime.
//   float64: sgdStepRef / adamStepRef on plain arrays vs the fixtures' *_f64 trajectories
//   float32: the arena step (params | grads | state slabs, float32 model math) vs the float32 ones
// Each comparison uses the case's own tolerance for that key (toleranceFor): for *_f64 keys
// abs 1e-9 + rel 1e-7 (float64 vs float64, only summation order differs), for float32 keys the
// case tolerance (abs 1e-5 + rel 1e-4 in the current set; float32 model math differs from torch's
// in summation order, the fixtures report a float32-vs-float64 drift of ~3e-7).
import { describe, expect, it } from 'vitest';
import { casesOfKind, expectClose, f32, f64, ints, loadCase, toleranceFor, type RefCase } from '../../helpers/reference.js';
import { createOptimizer } from '../../../runtime/optim/create.js';
import { resolveSgdConfig, sgdStepRef } from '../../../runtime/optim/sgd.js';
import { adamStepRef, resolveAdamConfig } from '../../../runtime/optim/adam.js';
import type { OptimizerConfig } from '../../../runtime/optim/optimizer.js';

interface Layer { type: string; weight?: string; bias?: string; in_features?: number; out_features?: number }

/** torch keyword arguments (snake_case) -> an edgenn OptimizerConfig (camelCase). */
function optimizerConfig(c: RefCase): OptimizerConfig {
  const args = c.params['optimizer_args'] as Record<string, unknown>;
  const cfg: Record<string, unknown> = { kind: c.params['optimizer'] };
  for (const [k, v] of Object.entries(args)) cfg[k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())] = v;
  return cfg as unknown as OptimizerConfig;
}

/** A test-only MLP on a flat parameter vector: state_dict order, weights [O, I] row-major. */
class Mlp {
  readonly offsets = new Map<string, number>();
  readonly names: string[] = [];
  readonly size: number;
  constructor(readonly layers: Layer[], c: RefCase) {
    let off = 0;
    for (const l of layers) {
      if (l.type !== 'Linear') {
        if (l.type !== 'ReLU' && l.type !== 'Tanh') throw new Error(`test MLP: layer ${l.type} not replayed`);
        continue;
      }
      for (const name of [l.weight!, l.bias!]) {
        this.offsets.set(name, off); this.names.push(name);
        off += c.inputs[`init.${name}`]!.data.length;
      }
    }
    this.size = off;
  }

  /** Mean cross-entropy of rows `rows` of X, gradient written into `grad` (overwritten).
   *  `r` rounds each op's result: identity for float64, Math.fround for float32. */
  lossAndGrad(w: ArrayLike<number>, X: Float64Array, y: Int32Array, rows: number[], inF: number,
    grad: number[] | null, r: (x: number) => number): number {
    const B = rows.length;
    const acts: number[][] = [];                        // acts[k] is (B, width_k), layer inputs
    let h: number[] = [];
    for (const i of rows) for (let j = 0; j < inF; j++) h.push(r(X[i * inF + j]!));
    let width = inF;
    for (const l of this.layers) {
      acts.push(h);
      if (l.type === 'Linear') {
        const O = l.out_features!, I = l.in_features!, wo = this.offsets.get(l.weight!)!, bo = this.offsets.get(l.bias!)!;
        const out: number[] = new Array<number>(B * O);
        for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) {
          let s = 0;
          for (let i = 0; i < I; i++) s += h[b * I + i]! * w[wo + o * I + i]!;
          out[b * O + o] = r(r(s) + w[bo + o]!);
        }
        h = out; width = O;
      } else h = h.map((v) => (l.type === 'ReLU' ? (v > 0 ? v : 0) : r(Math.tanh(v))));
    }
    // mean cross-entropy over logits h (B, C) and its gradient dz = (softmax - onehot) / B
    const C = width;
    let loss = 0;
    let dz: number[] = new Array<number>(B * C);
    for (let b = 0; b < B; b++) {
      let m = -Infinity;
      for (let k = 0; k < C; k++) m = Math.max(m, h[b * C + k]!);
      let se = 0;
      for (let k = 0; k < C; k++) se += Math.exp(h[b * C + k]! - m);
      const lse = m + Math.log(se), target = y[rows[b]!]!;
      loss += lse - h[b * C + target]!;
      for (let k = 0; k < C; k++) dz[b * C + k] = r((Math.exp(h[b * C + k]! - lse) - (k === target ? 1 : 0)) / B);
    }
    if (grad === null) return r(loss / B);
    for (let li = this.layers.length - 1; li >= 0; li--) {
      const l = this.layers[li]!, x = acts[li]!;
      if (l.type === 'Linear') {
        const O = l.out_features!, I = l.in_features!, wo = this.offsets.get(l.weight!)!, bo = this.offsets.get(l.bias!)!;
        const dx: number[] = new Array<number>(B * I).fill(0);
        for (let o = 0; o < O; o++) {
          let db = 0;
          for (let b = 0; b < B; b++) db += dz[b * O + o]!;
          grad[bo + o] = r(db);
          for (let i = 0; i < I; i++) {
            let dw = 0;
            for (let b = 0; b < B; b++) dw += dz[b * O + o]! * x[b * I + i]!;
            grad[wo + o * I + i] = r(dw);
          }
        }
        for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) {
          let s = 0;
          for (let o = 0; o < O; o++) s += dz[b * O + o]! * w[wo + o * I + i]!;
          dx[b * I + i] = r(s);
        }
        dz = dx;
      } else {
        // this layer's output is the next layer's input (acts[li + 1])
        const out = acts[li + 1]!;
        dz = dz.map((d, k) => (l.type === 'ReLU' ? (out[k]! > 0 ? d : 0) : r(d * r(1 - r(out[k]! * out[k]!)))));
      }
    }
    return r(loss / B);
  }
}

function batchRows(c: RefCase, step: number, N: number): number[] {
  if (c.params['full_batch'] === true) return Array.from({ length: N }, (_, i) => i);
  const batches = c.inputs['batches']!;
  const bs = batches.shape[1]!;
  return Array.from(ints(batches).subarray(step * bs, (step + 1) * bs));
}

const cases = casesOfKind('train');

describe('optimizers inside the PyTorch training fixtures', () => {
  it('there are train cases', () => { expect(cases.length).toBeGreaterThan(0); });

  for (const name of cases) {
    const c = loadCase(name);
    const layers = c.layers as unknown as Layer[];
    const steps = c.params['steps'] as number;
    // X holds float32 values (torch's float64 run converts the same float32 tensor with .double())
    const X = Float64Array.from(f32(c.inputs['X']!)), y = ints(c.inputs['y']!);
    const N = c.inputs['X']!.shape[0]!, inF = c.inputs['X']!.shape[1]!;
    const mlp = new Mlp(layers, c);

    function initParams(): number[] {
      const w: number[] = new Array<number>(mlp.size);
      for (const nm of mlp.names) {
        const v = f32(c.inputs[`init.${nm}`]!), o = mlp.offsets.get(nm)!;
        for (let i = 0; i < v.length; i++) w[o + i] = v[i]!;
      }
      return w;
    }
    function check(label: string, w: ArrayLike<number>, suffix: string): void {
      for (const nm of mlp.names) {
        const key = `${label}.${nm}${suffix}`, o = mlp.offsets.get(nm)!;
        const want = f64(c.expected[key]!);
        expectClose(`${name} ${key}`, Array.from(w).slice(o, o + want.length), want, toleranceFor(c, key));
      }
    }

    it(`${name}: float64 twin reproduces the *_f64 trajectory`, () => {
      const cfg = optimizerConfig(c);
      const w = initParams(), grad = new Array<number>(mlp.size).fill(0);
      const state = new Array<number>(3 * mlp.size).fill(0);
      const losses: number[] = [];
      const id = (v: number): number => v;
      for (let t = 1; t <= steps; t++) {
        losses.push(mlp.lossAndGrad(w, X, y, batchRows(c, t - 1, N), inF, grad, id));
        if (cfg.kind === 'sgd') sgdStepRef(resolveSgdConfig(cfg), w, grad, state, t);
        else adamStepRef(resolveAdamConfig(cfg), w, grad, state, t);
        if (t === 1) check('after_step1', w, '_f64');
      }
      check('final', w, '_f64');
      expectClose(`${name} losses_f64`, losses, f64(c.expected['losses_f64']!), toleranceFor(c, 'losses_f64'));
      const all = Array.from({ length: N }, (_, i) => i);
      expectClose(`${name} final_loss_f64`, [mlp.lossAndGrad(w, X, y, all, inF, null, id)],
        f64(c.expected['final_loss_f64']!), toleranceFor(c, 'final_loss_f64'));
    });

    it(`${name}: the float32 arena step reproduces the float32 trajectory`, () => {
      const opt = createOptimizer(optimizerConfig(c));
      const n = mlp.size;
      // arena: [params n | grads n | state stateFloatsPerParam*n], as the trainer lays it out
      const a = new Float32Array((2 + opt.stateFloatsPerParam) * n);
      const p = 0, g = n, s = 2 * n;
      a.set(initParams(), p);
      const params = a.subarray(p, p + n);
      const grad = new Array<number>(n).fill(0);
      const losses: number[] = [];
      for (let t = 1; t <= steps; t++) {
        losses.push(mlp.lossAndGrad(params, X, y, batchRows(c, t - 1, N), inF, grad, Math.fround));
        a.set(grad, g);
        opt.step(a, p, g, s, n, t);
        if (t === 1) check('after_step1', params, '');
      }
      check('final', params, '');
      expectClose(`${name} losses`, losses, f64(c.expected['losses']!), toleranceFor(c, 'losses'));
    });
  }
});
