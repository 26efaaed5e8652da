// What the executor needs to run an instruction on the wasm kernels instead of the JS ones:
// adapters with the JS kernels' exact signatures (the Float32Array `a` first, ignored: the wasm
// kernels read the arena through the memory it lives in), an optimizer step computing the same
// scalars as SgdOptimizer / AdamOptimizer, and the rule deciding, per instruction, which
// implementation runs. Not here: the executor itself (runtime/graph/execute.ts, the lead's).
//
// Recommended integration (decided once at plan time, so the run loop stays one switch with no
// extra branch): compile() with `wasm: kernels` places the arena in kernels.buffer, and the
// planner emits distinct instruction kinds (Ik.DenseFWasm, Ik.DenseBWasm, Ik.ReluFWasm, ...)
// for the instructions `wasmEligible` accepts, each carrying the same numbers as its JS twin
// plus the fused activation; execute() gets one extra argument (the WasmKernels or null) and its
// cases call `k.denseForward(s.y, s.x, s.w, s.b, b, s.I, s.O, s.act, s.slope)` directly. The
// adapters below serve callers that hold a function reference (benchmarks, the optimizer slot).
import type { Optimizer } from '../optim/optimizer.js';
import { AdamFlag, DenseAct, SgdFlag, type WasmKernels } from './kernels.js';

/** Optimizer step with Optimizer.step's signature, running the wasm kernel. Reads `opt.lr` at
 *  every step (schedules change it) and the other hyper-parameters once, here. Bit-exact with
 *  opt.step (see the NOTE in kernels.wat). Created once per model, not per step. */
export function wasmOptimizerStep(k: WasmKernels, opt: Optimizer):
  (a: Float32Array, p: number, g: number, s: number, n: number, t: number) => void {
  const c = opt.config();
  if (c.kind === 'sgd') {
    const wd = Math.fround(c.weightDecay), mom = Math.fround(c.momentum), keep = Math.fround(1 - c.dampening);
    const flags = (c.weightDecay !== 0 ? SgdFlag.WeightDecay : 0) | (c.momentum !== 0 ? SgdFlag.Momentum : 0) |
      (c.nesterov ? SgdFlag.Nesterov : 0) | (c.maximize ? SgdFlag.Maximize : 0);
    return (_a, p, g, s, n, t) => {
      k.sgdStep(p, g, s, n, Math.fround(-opt.lr), wd, mom, keep, t <= 1 ? flags | SgdFlag.FirstStep : flags);
    };
  }
  const [beta1, beta2] = c.betas;
  const eps = Math.fround(c.eps), b1 = Math.fround(beta1), c1 = Math.fround(1 - beta1);
  const b2 = Math.fround(beta2), c2 = Math.fround(1 - beta2), wd = Math.fround(c.weightDecay);
  const weightDecay = c.weightDecay;
  const flags = (c.kind === 'adamw' ? AdamFlag.Decoupled : 0) | (c.kind === 'adam' && c.weightDecay !== 0 ? AdamFlag.L2 : 0) |
    (c.amsgrad ? AdamFlag.Amsgrad : 0) | (c.maximize ? AdamFlag.Maximize : 0);
  return (_a, p, g, s, n, t) => {
    const lr = opt.lr;
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = 1 - Math.pow(beta2, t);
    k.adamStep(p, g, s, n, Math.fround(-(lr / bc1)), Math.fround(Math.sqrt(bc2)), eps, b1, c1, b2, c2,
      Math.fround(1 - lr * weightDecay), wd, flags);
  };
}

/** The JS kernels' signatures over the wasm kernels (`a` must be a view of kernels.buffer). */
export interface WasmDispatch {
  readonly kernels: WasmKernels;
  denseForward(a: Float32Array, y: number, x: number, w: number, b: number, B: number, I: number, O: number): void;
  /** dense followed by relu (act = Relu) or leaky relu (LeakyRelu, slope): the fused epilogue */
  denseForwardAct(a: Float32Array, y: number, x: number, w: number, b: number, B: number, I: number, O: number,
                  act: DenseAct, slope: number): void;
  denseBackward(a: Float32Array, dx: number, dw: number, db: number, dy: number, x: number, w: number,
                B: number, I: number, O: number): void;
  reluForward(a: Float32Array, y: number, x: number, n: number): void;
  reluBackward(a: Float32Array, dx: number, dy: number, y: number, n: number): void;
  leakyReluForward(a: Float32Array, y: number, x: number, n: number, p: Float64Array): void;
  leakyReluBackward(a: Float32Array, dx: number, dy: number, x: number, n: number, p: Float64Array): void;
}

export function makeWasmDispatch(k: WasmKernels): WasmDispatch {
  return {
    kernels: k,
    denseForward: (_a, y, x, w, b, B, I, O) => k.denseForward(y, x, w, b, B, I, O, DenseAct.None, 0),
    denseForwardAct: (_a, y, x, w, b, B, I, O, act, slope) => k.denseForward(y, x, w, b, B, I, O, act, slope),
    denseBackward: (_a, dx, dw, db, dy, x, w, B, I, O) => k.denseBackward(dx, dw, db, dy, x, w, B, I, O),
    reluForward: (_a, y, x, n) => k.reluForward(y, x, n),
    reluBackward: (_a, dx, dy, y, n) => k.reluBackward(dx, dy, y, n),
    leakyReluForward: (_a, y, x, n, p) => k.leakyReluForward(y, x, n, p[0]!),
    leakyReluBackward: (_a, dx, dy, x, n, p) => k.leakyReluBackward(dx, dy, x, n, p[0]!),
  };
}

/**
 * Plan-time rule: run an instruction on wasm when the kernels exist and the arena lives in their
 * memory (the kernels address nothing else). No size threshold: measured (test/runtime/wasm/
 * gflops.test.ts) the wasm dense is no slower than JS even at 1x32x4, and faster from 1x16x32 up.
 */
export function wasmEligible(arenaBuffer: ArrayBuffer, k: WasmKernels | null): k is WasmKernels {
  return k !== null && arenaBuffer === k.buffer;
}
