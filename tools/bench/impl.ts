// The seam between the benchmark harness and the implementations it measures (edgenn and each
// peer). An implementation turns a model/GEMM definition into a prepared "case": a call to time
// plus a way to read its results for the correctness guard. Types only; the adapters live in
// edgenn-impl.ts and peers/*.ts (the only files that import the peer packages).
//
// Every timed call starts from a Float32Array the harness owns and ends with the results readable
// from JS (inference: the output rows; training: parameters updated in place; GEMM: products
// computed), so per-call API overhead is part of what is measured, as a user would pay it.
import type { GemmData, GemmKernel, MlpDef } from './models.js';

/** 'edgenn' runs its default kernels (WebAssembly SIMD where available); 'edgenn-js' forces the
 *  pure TypeScript kernels (the fallback), so both are measured in the same run. */
export type ImplName = 'edgenn' | 'edgenn-js' | 'ort-node' | 'ort-web' | 'tfjs-cpu' | 'tfjs-wasm';
export const IMPL_NAMES: readonly ImplName[] = ['edgenn', 'edgenn-js', 'ort-node', 'ort-web', 'tfjs-cpu', 'tfjs-wasm'];

/** A call to time. Synchronous calls are timed without `await` (an await costs a microtask). */
export type Call =
  | { readonly sync: true; readonly fn: () => void }
  | { readonly sync: false; readonly fn: () => Promise<void> };

export interface InferCase {
  readonly call: Call;
  /** Runs once and returns a copy of the output rows (B, C). */
  outputs(): Promise<Float32Array>;
  dispose(): void;
}

export type OptimizerChoice = 'sgd' | 'adam';

/** The optimizers every implementation is configured with (PyTorch defaults but lr for SGD). */
export const SGD_LR = 0.01;
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

export interface TrainCase {
  /** One training step: forward, mean cross-entropy against class indices, backward, update. */
  readonly call: Call;
  /** Runs one step and returns its loss (computed before the update, as PyTorch's loop records it). */
  stepLoss(): Promise<number>;
  dispose(): void;
}

export interface GemmCase {
  readonly call: Call;
  /** Runs once from zeroed outputs: fwd → [y (B, O)]; bwd → [dx (B, I), dw (O, I)]. */
  outputs(): Promise<Float32Array[]>;
  dispose(): void;
}

export interface Impl {
  readonly name: ImplName;
  /** library version(s) and configuration (threads, backend), printed in the report */
  readonly version: string;
  readonly config: string;
  /** Called before each timed round of this impl (tfjs switches its global backend here). */
  enter(): Promise<void>;
  infer(def: MlpDef, x: Float32Array, B: number): Promise<InferCase>;
  /** null when the library has no training API (the workload is reported as n/a) */
  train(def: MlpDef, x: Float32Array, labels: Int32Array, B: number, opt: OptimizerChoice): Promise<TrainCase | null>;
  /** null when the library cannot express this kernel */
  gemm(data: GemmData, kernel: GemmKernel): Promise<GemmCase | null>;
  dispose(): Promise<void>;
}
