// Every PyTorch `loss_*` reference case (test/fixtures/reference, copied unmodified from
// shared/reference): the kernels' float32 loss, rows ('none') and input gradient against PyTorch's
// float32 results within each case's own tolerance, and the float64 twins against PyTorch's
// float64 results (*_f64). Cases are iterated from index.json and dispatched on the case name and
// params, never named one by one, so unseen cases with the same structure run too.
// nll_loss and kl_div cases whose input is log_softmax(logits) are composed with a log_softmax
// written here (float64 forward stored to float32, backward dz = dlogp - softmax * sum(dlogp)):
// the runtime's log_softmax op belongs to runtime/ops and is tested there.
import { describe, expect, it } from 'vitest';
import {
  casesOfKind, expectClose, f32, f64, ints, loadCase, toleranceFor, type RefCase, type RefTensor,
} from '../../helpers/reference.js';
import {
  crossEntropyBackward, crossEntropyBackwardRef, crossEntropyForward, crossEntropyForwardRef,
  crossEntropyProbBackward, crossEntropyProbBackwardRef, crossEntropyProbForward, crossEntropyProbForwardRef,
} from '../../../runtime/losses/cross-entropy.js';
import { nllBackward, nllBackwardRef, nllForward, nllForwardRef } from '../../../runtime/losses/nll.js';
import { mseBackward, mseBackwardRef, mseForward, mseForwardRef } from '../../../runtime/losses/mse.js';
import {
  bceWithLogitsBackward, bceWithLogitsBackwardRef, bceWithLogitsForward, bceWithLogitsForwardRef,
} from '../../../runtime/losses/bce-with-logits.js';
import { bceBackward, bceBackwardRef, bceForward, bceForwardRef } from '../../../runtime/losses/bce.js';
import { klDivBackward, klDivBackwardRef, klDivForward, klDivForwardRef } from '../../../runtime/losses/kl-div.js';
import {
  IGNORE_INDEX_DEFAULT, type BasicReduction, type LossRef, type Reduction, type WeightShape,
} from '../../../runtime/losses/types.js';
import { TestArena } from './harness.js';

// float64 twin vs PyTorch float64 from the same float32-valued inputs: only summation order and
// libm differ (~1e-15 relative); 1e-10 relative / 1e-12 absolute leaves room for that, nothing more.
const F64_TOL = { abs: 1e-12, rel: 1e-10 };

const LOSS_CASES = casesOfKind('loss');

function logSoftmax64(z: ArrayLike<number>, B: number, C: number): Float64Array {
  const out = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, z[i * C + j]!);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(z[i * C + j]! - m);
    for (let j = 0; j < C; j++) out[i * C + j] = z[i * C + j]! - m - Math.log(s);
  }
  return out;
}
function logSoftmaxBackward64(dlogp: ArrayLike<number>, logp: ArrayLike<number>, B: number, C: number): Float64Array {
  const dz = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let j = 0; j < C; j++) s += dlogp[i * C + j]!;
    for (let j = 0; j < C; j++) dz[i * C + j] = dlogp[i * C + j]! - Math.exp(logp[i * C + j]!) * s;
  }
  return dz;
}

type Family = 'ce-index' | 'ce-probs' | 'nll' | 'mse' | 'bce-with-logits' | 'bce' | 'kl-div';

function familyOf(c: RefCase): Family {
  const n = c.name;
  if (n.startsWith('loss_cross_entropy')) {
    return c.params['target_kind'] === 'class_probabilities' ? 'ce-probs' : 'ce-index';
  }
  if (n.startsWith('loss_nll')) return 'nll';
  if (n.startsWith('loss_mse')) return 'mse';
  if (n.startsWith('loss_bce_with_logits')) return 'bce-with-logits';
  if (n.startsWith('loss_bce')) return 'bce';
  if (n.startsWith('loss_kl_div')) return 'kl-div';
  throw new Error(`${n}: no loss kernel for this fixture name`);
}

function first(c: RefCase, where: 'inputs' | 'expected', keys: readonly string[]): [string, RefTensor] {
  for (const k of keys) { const t = c[where][k]; if (t !== undefined) return [k, t]; }
  throw new Error(`${c.name}: none of ${keys.join(', ')} in ${where}`);
}

function weightShapeOf(w: RefTensor, B: number, C: number): WeightShape {
  const n = w.shape.reduce((p, v) => p * v, 1);
  if (n === B * C && !(B === 1 && w.shape.length === 1)) return 'BC';
  if (n === C && w.shape[w.shape.length - 1] === C) return 'C';
  if (n === B) return 'B';
  throw new Error(`weight shape [${w.shape.join(', ')}] does not broadcast to [${B}, ${C}]`);
}

interface Outcome {
  readonly loss: number;             // a[out] (for 'none' the sum; compared as rows instead)
  readonly rows: Float32Array;       // per-row / per-element losses
  readonly grad: Float64Array;       // dloss/d(input of the fixture): logits or pred
  readonly ref: LossRef;             // float64 twin
  readonly refGrad: Float64Array;
}

function run(c: RefCase): Outcome {
  const fam = familyOf(c);
  const [, predT] = first(c, 'inputs', ['logits', 'pred', 'input']);
  const viaLogSoftmax = (fam === 'nll' || fam === 'kl-div') && c.inputs['logits'] !== undefined;
  if (viaLogSoftmax) expect(String(c.params['torch_call'] ?? c.params['input'])).toContain('log_softmax');
  const B = predT.shape[0]!, C = predT.shape.slice(1).reduce((p, v) => p * v, 1);
  const n = B * C;
  const reduction = String(c.params['reduction'] ?? 'mean') as Reduction;
  const basic = reduction as BasicReduction;
  const none = reduction === 'none';
  const ignoreIndex = Number(c.params['ignore_index'] ?? IGNORE_INDEX_DEFAULT);
  const labelSmoothing = Number(c.params['label_smoothing'] ?? 0);
  const wT = c.inputs['weight'], pwT = c.inputs['pos_weight'], gT = c.inputs['g'];
  const byIndex = fam === 'ce-index' || fam === 'nll';
  const rowsLen = fam === 'ce-index' || fam === 'ce-probs' || fam === 'nll' ? B : n;

  const pred = f32(predT);
  const logp64 = viaLogSoftmax ? logSoftmax64(pred, B, C) : null;
  const kernelIn = logp64 !== null ? Float32Array.from(logp64) : pred;
  const ref64In: ArrayLike<number> = logp64 ?? pred;
  const target = byIndex ? ints(c.inputs['target']!) : f32(c.inputs['target']!);
  const weight = wT === undefined ? null : f32(wT);
  const posWeight = pwT === undefined ? null : f32(pwT);
  const g = gT === undefined ? Float32Array.of(1) : f32(gT);
  if (none) expect(g.length).toBe(rowsLen);
  const gRef: number | Float32Array = none ? g : g[0]!;
  const weightShape = weight === null ? undefined : fam === 'bce' || fam === 'bce-with-logits' ? weightShapeOf(wT!, B, C) : 'C';

  const t = new TestArena(8 * n + 4 * C + 4 * B + 64);
  const pOff = t.allocF(kernelIn);
  const tOff = byIndex ? t.allocI(target) : t.allocF(target);
  const wOff = weight === null ? -1 : t.allocF(weight);
  const pwOff = posWeight === null ? -1 : t.allocF(posWeight);
  const out = t.alloc(1), rows = t.alloc(rowsLen), scratch = t.alloc(n), dOff = t.allocF(new Float32Array(n));
  const gOff = t.allocF(g);
  const { a, ia } = t;
  let ref: LossRef, refGrad: Float64Array;
  switch (fam) {
    case 'ce-index': {
      const at = { reduction: basic, ignoreIndex, labelSmoothing, hasWeight: weight !== null };
      crossEntropyForward(a, ia, out, rows, scratch, pOff, tOff, wOff, B, C, at);
      crossEntropyBackward(a, ia, dOff, scratch, pOff, tOff, wOff, gOff, B, C, at);
      ref = crossEntropyForwardRef(ref64In, target, weight, B, C, at);
      refGrad = crossEntropyBackwardRef(ref64In, target, weight, gRef, B, C, at);
      break;
    }
    case 'ce-probs': {
      const at = { reduction: basic, labelSmoothing, hasWeight: weight !== null };
      crossEntropyProbForward(a, out, rows, scratch, pOff, tOff, wOff, B, C, at);
      crossEntropyProbBackward(a, dOff, scratch, pOff, tOff, wOff, gOff, B, C, at);
      ref = crossEntropyProbForwardRef(ref64In, target, weight, B, C, at);
      refGrad = crossEntropyProbBackwardRef(ref64In, target, weight, gRef, B, C, at);
      break;
    }
    case 'nll': {
      const at = { reduction: basic, ignoreIndex, hasWeight: weight !== null };
      nllForward(a, ia, out, rows, pOff, tOff, wOff, B, C, at);
      nllBackward(a, ia, dOff, pOff, tOff, wOff, gOff, B, C, at);
      ref = nllForwardRef(ref64In, target, weight, B, C, at);
      refGrad = nllBackwardRef(ref64In, target, weight, gRef, B, C, at);
      break;
    }
    case 'mse': {
      const at = { reduction: basic };
      mseForward(a, out, rows, pOff, tOff, B, C, at);
      mseBackward(a, dOff, pOff, tOff, gOff, B, C, at);
      ref = mseForwardRef(ref64In, target, B, C, at);
      refGrad = mseBackwardRef(ref64In, target, gRef, B, C, at);
      break;
    }
    case 'bce-with-logits': {
      const at = { reduction: basic, hasWeight: weight !== null, weightShape, hasPosWeight: posWeight !== null };
      bceWithLogitsForward(a, out, rows, pOff, tOff, wOff, pwOff, B, C, at);
      bceWithLogitsBackward(a, dOff, pOff, tOff, wOff, pwOff, gOff, B, C, at);
      ref = bceWithLogitsForwardRef(ref64In, target, weight, posWeight, B, C, at);
      refGrad = bceWithLogitsBackwardRef(ref64In, target, weight, posWeight, gRef, B, C, at);
      break;
    }
    case 'bce': {
      const at = { reduction: basic, hasWeight: weight !== null, weightShape };
      bceForward(a, out, rows, pOff, tOff, wOff, B, C, at);
      bceBackward(a, dOff, pOff, tOff, wOff, gOff, B, C, at);
      ref = bceForwardRef(ref64In, target, weight, B, C, at);
      refGrad = bceBackwardRef(ref64In, target, weight, gRef, B, C, at);
      break;
    }
    case 'kl-div': {
      const at = { reduction, logTarget: c.params['log_target'] === true };
      klDivForward(a, out, rows, pOff, tOff, B, C, at);
      klDivBackward(a, dOff, pOff, tOff, gOff, B, C, at);
      ref = klDivForwardRef(ref64In, target, B, C, at);
      refGrad = klDivBackwardRef(ref64In, target, gRef, B, C, at);
      break;
    }
  }
  expect(t.guardsIntact(), `${c.name}: guard cells`).toBe(true);
  let grad: Float64Array = Float64Array.from(t.read(dOff, n));
  if (logp64 !== null) {
    // the kernel's float32 gradient w.r.t. logp goes through log_softmax's backward; the twin's
    // float64 one likewise
    grad = logSoftmaxBackward64(grad, logp64, B, C);
    refGrad = logSoftmaxBackward64(refGrad, logp64, B, C);
  }
  return { loss: a[out]!, rows: t.read(rows, rowsLen), grad, ref, refGrad };
}

describe('PyTorch loss fixtures', () => {
  it('there are loss cases to check', () => {
    expect(LOSS_CASES.length).toBeGreaterThan(0);
  });
  it.each(LOSS_CASES)('%s: kernel loss and gradient match PyTorch (case tolerance)', (name) => {
    const c = loadCase(name);
    const r = run(c);
    const none = c.params['reduction'] === 'none';
    // each case states its tolerance (abs 1e-6, rel 1e-5 in this set): PyTorch's own float32
    // rounding is the error budget
    const lossExp = f32(c.expected['loss']!);
    expectClose(`${name} loss`, none ? r.rows : [r.loss], lossExp, toleranceFor(c, 'loss'));
    const [gKey, gExp] = first(c, 'expected', ['dlogits', 'dpred', 'dinput']);
    expectClose(`${name} ${gKey}`, r.grad, f32(gExp), toleranceFor(c, gKey));
  });
  it.each(LOSS_CASES)('%s: float64 twin matches PyTorch float64', (name) => {
    const c = loadCase(name);
    const r = run(c);
    const none = c.params['reduction'] === 'none';
    const lossExp = c.expected['loss_f64'];
    const [, gExp] = first(c, 'expected', ['dlogits_f64', 'dpred_f64', 'dinput_f64']);
    expectClose(`${name} loss_f64`, none ? r.ref.rows : [r.ref.loss], f64(lossExp!), F64_TOL);
    expectClose(`${name} grad_f64`, r.refGrad, f64(gExp), F64_TOL);
  });
});
