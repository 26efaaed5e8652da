// What a user asks for when choosing a loss: a plain, JSON-able record (CLI flags and the library
// API both produce it). Semantics are torch.nn.functional's; see each kernel file in this folder.
import { EdgennError } from '../errors.js';

export type LossReduction = 'mean' | 'sum' | 'none' | 'batchmean';

export type LossSpec =
  | { readonly kind: 'cross-entropy'; readonly target?: 'index' | 'probs'; readonly reduction?: 'mean' | 'sum';
      readonly weight?: readonly number[]; readonly ignoreIndex?: number; readonly labelSmoothing?: number }
  | { readonly kind: 'nll'; readonly reduction?: 'mean' | 'sum'; readonly weight?: readonly number[]; readonly ignoreIndex?: number }
  | { readonly kind: 'mse'; readonly reduction?: 'mean' | 'sum' }
  | { readonly kind: 'bce-with-logits'; readonly reduction?: 'mean' | 'sum'; readonly posWeight?: readonly number[] }
  | { readonly kind: 'bce'; readonly reduction?: 'mean' | 'sum' }
  | { readonly kind: 'kl-div'; readonly reduction?: 'batchmean' | 'sum' | 'mean'; readonly logTarget?: boolean };

export type LossKind = LossSpec['kind'];
export const LOSS_KINDS: readonly LossKind[] = ['cross-entropy', 'nll', 'mse', 'bce-with-logits', 'bce', 'kl-div'];

/** true when targets are class indices (Int32, shape [B]) rather than floats shaped like pred */
export function lossTakesIndices(spec: LossSpec): boolean {
  return (spec.kind === 'cross-entropy' && (spec.target ?? 'index') === 'index') || spec.kind === 'nll';
}

/** Checks a spec against the prediction's per-sample dims; throws naming the option. */
export function checkLossSpec(spec: LossSpec, predDims: readonly number[]): void {
  const C = predDims[predDims.length - 1] ?? 1;
  const classLoss = spec.kind === 'cross-entropy' || spec.kind === 'nll';
  if (classLoss && predDims.length !== 1) {
    throw new EdgennError('SHAPE', `${spec.kind} needs predictions shaped [B, C]`, { expected: '[B, C]', actual: `[B, ${predDims.join(', ')}]` });
  }
  if ((spec.kind === 'cross-entropy' || spec.kind === 'nll') && spec.weight !== undefined && spec.weight.length !== C) {
    throw new EdgennError('ARG', 'class weights need one value per class', { expected: `${C} weights`, actual: `${spec.weight.length}` });
  }
  if (spec.kind === 'cross-entropy' && spec.labelSmoothing !== undefined &&
      !(spec.labelSmoothing >= 0 && spec.labelSmoothing <= 1)) {
    throw new EdgennError('ARG', 'label smoothing must be in [0, 1]', { actual: String(spec.labelSmoothing) });
  }
  if (spec.kind === 'bce-with-logits' && spec.posWeight !== undefined && spec.posWeight.length !== C) {
    throw new EdgennError('ARG', 'pos_weight needs one value per output of the last dimension', { expected: `${C} values`, actual: `${spec.posWeight.length}` });
  }
  if ('ignoreIndex' in spec && spec.ignoreIndex !== undefined && !Number.isInteger(spec.ignoreIndex)) {
    throw new EdgennError('ARG', 'ignore_index must be an integer', { actual: String(spec.ignoreIndex) });
  }
  const w = ('weight' in spec ? spec.weight : undefined) ?? ('posWeight' in spec ? spec.posWeight : undefined);
  if (w !== undefined && w.some((v) => !Number.isFinite(v))) {
    throw new EdgennError('ARG', 'loss weights must be finite numbers');
  }
}
