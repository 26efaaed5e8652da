// The optimizer contract: one `step` over parallel slabs of one arena Float32Array.
//
// Layout (all offsets are float indices into the arena's Float32Array `a`):
//   params  a[p .. p+n)                          the trainable parameters, one contiguous block
//   grads   a[g .. g+n)                          their gradients, same order
//   state   a[s .. s + stateFloatsPerParam*n)    consecutive slabs of n floats each
//                                                (SGD: buf | Adam: m, v | amsgrad: m, v, vmax)
// The caller (the trainer) owns the arena, zeroes the state slab once when the model is compiled,
// and keeps the 1-based step count `t` (it goes into checkpoints with the state slab), so an
// optimizer object holds hyper-parameters only and can be rebuilt from `config()`.
//
// This file is types only: no arithmetic, no validation (see sgd.ts, adam.ts, create.ts).

/** torch.optim.SGD options; omitted ones take torch's defaults (0 / false). */
export interface SgdConfig {
  readonly kind: 'sgd';
  readonly lr: number;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
  readonly maximize?: boolean;
}

/** torch.optim.Adam / AdamW options; defaults as torch: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
 *  weightDecay 0 (adam) or 0.01 (adamw), amsgrad false, maximize false. */
export interface AdamConfig {
  readonly kind: 'adam' | 'adamw';
  readonly lr?: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
  readonly amsgrad?: boolean;
  readonly maximize?: boolean;
}

export type OptimizerConfig = SgdConfig | AdamConfig;

/** What `config()` returns: every option present, defaults filled in, plain JSON-able. */
export interface ResolvedSgdConfig {
  readonly kind: 'sgd';
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly maximize: boolean;
}
export interface ResolvedAdamConfig {
  readonly kind: 'adam' | 'adamw';
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
}
export type ResolvedOptimizerConfig = ResolvedSgdConfig | ResolvedAdamConfig;

export interface Optimizer {
  readonly kind: 'sgd' | 'adam' | 'adamw';
  /** floats of state per parameter: the state slab is stateFloatsPerParam * n floats */
  readonly stateFloatsPerParam: number;
  /** mutable: schedules set it between steps (a plain field; set finite values >= 0) */
  lr: number;
  /** One update of a[p..p+n) from a[g..g+n) and the state slab at s. t = 1-based step count
   *  (the caller keeps it, e.g. in a checkpoint). Allocation-free; never throws. */
  step(a: Float32Array, p: number, g: number, s: number, n: number, t: number): void;
  /** the hyper-parameters (current lr included) as a fresh plain JSON-able record */
  config(): ResolvedOptimizerConfig;
}
