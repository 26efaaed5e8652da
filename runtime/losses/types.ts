// Attribute records of the loss kernels (runtime/losses/*.ts): plain readonly records built once
// at plan time and validated there (validateXxxAttrs / xxxCheck), never inside a kernel.
// Semantics are torch.nn.functional's (PyTorch 1.13); each field names its PyTorch argument.
// Dimension letters: B rows (batch), C classes (or features: mse/bce/kl_div are elementwise over
// [B,C], so N = B*C elements).

/** PyTorch's `reduction`. 'batchmean' (sum / B) is kl_div's alone. */
export type Reduction = 'mean' | 'sum' | 'none' | 'batchmean';
/** The reductions every loss other than kl_div accepts. */
export type BasicReduction = 'mean' | 'sum' | 'none';

/** PyTorch's default `ignore_index`. */
export const IGNORE_INDEX_DEFAULT = -100;

/**
 * Shape of the optional `weight` of bce and bce_with_logits, which PyTorch broadcasts against
 * the [B,C] input: 'C' one weight per class (broadcast over rows),
 * 'B' one per row (broadcast over classes, PyTorch's [B,1]), 'BC' one per element.
 */
export type WeightShape = 'B' | 'C' | 'BC';

/** Floats of the weight buffer for a weight shape ('C' when absent): C, B or B*C. */
export function weightFloats(B: number, C: number, shape: WeightShape | undefined): number {
  return shape === 'B' ? B : shape === 'BC' ? B * C : C;
}

/** Row stride of the weight buffer: weight[i, j] lives at weight + i*rowStride + j*colStride. */
export function weightRowStride(C: number, shape: WeightShape | undefined): number {
  return shape === 'B' ? 1 : shape === 'BC' ? C : 0;
}
export function weightColStride(shape: WeightShape | undefined): number {
  return shape === 'B' ? 0 : 1;
}

/** cross_entropy(logits [B,C], target int32 [B], weight?[C], ignore_index, label_smoothing). */
export interface CrossEntropyAttrs {
  readonly reduction: BasicReduction;
  readonly ignoreIndex: number;      // rows whose target equals it: 0 loss, 0 gradient, not counted
  readonly labelSmoothing: number;   // eps in [0, 1]
  readonly hasWeight: boolean;       // a class-weight buffer [C] is wired (offset >= 0)
}

/** cross_entropy(logits [B,C], target probabilities [B,C], weight?[C], label_smoothing). */
export interface CrossEntropyProbAttrs {
  readonly reduction: BasicReduction;
  readonly labelSmoothing: number;
  readonly hasWeight: boolean;
}

/** nll_loss(logp [B,C], target int32 [B], weight?[C], ignore_index). */
export interface NllAttrs {
  readonly reduction: BasicReduction;
  readonly ignoreIndex: number;
  readonly hasWeight: boolean;
}

/** mse_loss(pred [B,C], target [B,C]). */
export interface MseAttrs {
  readonly reduction: BasicReduction;
}

/** binary_cross_entropy_with_logits(logits [B,C], target [B,C], weight?, pos_weight?[C]). */
export interface BceWithLogitsAttrs {
  readonly reduction: BasicReduction;
  readonly hasWeight: boolean;
  readonly weightShape?: WeightShape;  // default 'C'; only read when hasWeight
  readonly hasPosWeight: boolean;      // pos_weight [C], broadcast over rows
}

/** binary_cross_entropy(probabilities [B,C], target [B,C], weight?). */
export interface BceAttrs {
  readonly reduction: BasicReduction;
  readonly hasWeight: boolean;
  readonly weightShape?: WeightShape;  // default 'C'; only read when hasWeight
}

/** kl_div(input = log-probabilities [B,C], target [B,C], log_target). */
export interface KlDivAttrs {
  readonly reduction: Reduction;
  readonly logTarget: boolean;         // target holds log-probabilities
}

/** What a reference twin (xxxForwardRef) returns: float64 loss and per-row/per-element terms. */
export interface LossRef {
  readonly loss: number;
  readonly rows: Float64Array;
}
