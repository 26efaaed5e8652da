// From a LossSpec (what the user asked for) to the loss kernels: attribute records built once at
// plan time, scratch sizes for the planner, and the forward/backward calls the executor makes.
// For the elementwise losses (mse, bce, bce-with-logits, kl-div) a prediction of any per-sample
// shape is viewed as (B, perSample); the class losses take (B, C).
import type { LossSpec } from './spec.js';
import type {
  CrossEntropyAttrs, CrossEntropyProbAttrs, NllAttrs, MseAttrs, BceWithLogitsAttrs, BceAttrs, KlDivAttrs,
} from './types.js';
import { IGNORE_INDEX_DEFAULT } from './types.js';
import type { LossInstr } from '../graph/instr.js';
import { crossEntropyForward, crossEntropyBackward, crossEntropyProbForward, crossEntropyProbBackward } from './cross-entropy.js';
import { nllForward, nllBackward } from './nll.js';
import { mseForward, mseBackward } from './mse.js';
import { bceWithLogitsForward, bceWithLogitsBackward } from './bce-with-logits.js';
import { bceForward, bceBackward } from './bce.js';
import { klDivForward, klDivBackward } from './kl-div.js';

export type LossAttrs =
  | { readonly kind: 'ce-index'; readonly a: CrossEntropyAttrs }
  | { readonly kind: 'ce-probs'; readonly a: CrossEntropyProbAttrs }
  | { readonly kind: 'nll'; readonly a: NllAttrs }
  | { readonly kind: 'mse'; readonly a: MseAttrs }
  | { readonly kind: 'bce-with-logits'; readonly a: BceWithLogitsAttrs }
  | { readonly kind: 'bce'; readonly a: BceAttrs }
  | { readonly kind: 'kl-div'; readonly a: KlDivAttrs };

export function lossAttrs(spec: LossSpec): LossAttrs {
  switch (spec.kind) {
    case 'cross-entropy':
      return (spec.target ?? 'index') === 'index'
        ? { kind: 'ce-index', a: { reduction: spec.reduction ?? 'mean', ignoreIndex: spec.ignoreIndex ?? IGNORE_INDEX_DEFAULT,
            labelSmoothing: spec.labelSmoothing ?? 0, hasWeight: spec.weight !== undefined } }
        : { kind: 'ce-probs', a: { reduction: spec.reduction ?? 'mean', labelSmoothing: spec.labelSmoothing ?? 0,
            hasWeight: spec.weight !== undefined } };
    case 'nll':
      return { kind: 'nll', a: { reduction: spec.reduction ?? 'mean', ignoreIndex: spec.ignoreIndex ?? IGNORE_INDEX_DEFAULT,
        hasWeight: spec.weight !== undefined } };
    case 'mse':
      return { kind: 'mse', a: { reduction: spec.reduction ?? 'mean' } };
    case 'bce-with-logits':
      return { kind: 'bce-with-logits', a: { reduction: spec.reduction ?? 'mean', hasWeight: false, hasPosWeight: spec.posWeight !== undefined } };
    case 'bce':
      return { kind: 'bce', a: { reduction: spec.reduction ?? 'mean', hasWeight: false } };
    case 'kl-div':
      return { kind: 'kl-div', a: { reduction: spec.reduction ?? 'mean', logTarget: spec.logTarget ?? false } };
  }
}

/** ignore_index of a class loss (PyTorch default -100); NaN for losses without one. */
export function lossIgnoreIndex(spec: LossSpec): number {
  return spec.kind === 'cross-entropy' || spec.kind === 'nll' ? spec.ignoreIndex ?? IGNORE_INDEX_DEFAULT : NaN;
}

/** Scratch floats per sample: cross-entropy caches log-probabilities (B, C). */
export function lossScratchFloats(spec: LossSpec, perSample: number): number {
  return spec.kind === 'cross-entropy' ? perSample : 0;
}

/** Floats per sample of the per-row (class losses) or per-element (elementwise) loss buffer. */
export function lossRowFloats(spec: LossSpec, perSample: number): number {
  return spec.kind === 'cross-entropy' || spec.kind === 'nll' ? 1 : perSample;
}

export function lossForward(a: Float32Array, ia: Int32Array, L: LossInstr, b: number): void {
  const t = L.attrs;
  switch (t.kind) {
    case 'ce-index': crossEntropyForward(a, ia, L.out, L.rows, L.scratch, L.pred, L.target, L.weight, b, L.C, t.a); return;
    case 'ce-probs': crossEntropyProbForward(a, L.out, L.rows, L.scratch, L.pred, L.target, L.weight, b, L.C, t.a); return;
    case 'nll': nllForward(a, ia, L.out, L.rows, L.pred, L.target, L.weight, b, L.C, t.a); return;
    case 'mse': mseForward(a, L.out, L.rows, L.pred, L.target, b, L.perSample, t.a); return;
    case 'bce-with-logits':
      // pos_weight broadcasts over the last dim: view pred (b, ...dims, C) as (b*perSample/C, C)
      bceWithLogitsForward(a, L.out, L.rows, L.pred, L.target, -1, L.weight, b * L.rowsPerSample, L.C, t.a); return;
    case 'bce': bceForward(a, L.out, L.rows, L.pred, L.target, -1, b, L.perSample, t.a); return;
    case 'kl-div': klDivForward(a, L.out, L.rows, L.pred, L.target, b, L.perSample, t.a); return;
  }
}

export function lossBackward(a: Float32Array, ia: Int32Array, L: LossInstr, b: number): void {
  const t = L.attrs;
  switch (t.kind) {
    case 'ce-index': crossEntropyBackward(a, ia, L.dpred, L.scratch, L.pred, L.target, L.weight, L.gOut, b, L.C, t.a); return;
    case 'ce-probs': crossEntropyProbBackward(a, L.dpred, L.scratch, L.pred, L.target, L.weight, L.gOut, b, L.C, t.a); return;
    case 'nll': nllBackward(a, ia, L.dpred, L.pred, L.target, L.weight, L.gOut, b, L.C, t.a); return;
    case 'mse': mseBackward(a, L.dpred, L.pred, L.target, L.gOut, b, L.perSample, t.a); return;
    case 'bce-with-logits':
      bceWithLogitsBackward(a, L.dpred, L.pred, L.target, -1, L.weight, L.gOut, b * L.rowsPerSample, L.C, t.a); return;
    case 'bce': bceBackward(a, L.dpred, L.pred, L.target, -1, L.gOut, b, L.perSample, t.a); return;
    case 'kl-div': klDivBackward(a, L.dpred, L.pred, L.target, L.gOut, b, L.perSample, t.a); return;
  }
}
