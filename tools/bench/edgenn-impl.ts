// edgenn under the benchmark's Impl seam: a model is built with GraphBuilder from the shared
// weights, compiled once per (model, batch, optimizer), and each timed call is the public API a
// user calls (`run`, `trainStep`). GEMM cases call the dense kernels (runtime/ops/dense.ts) on
// offsets of one Arena, exactly as the executor does. Not a peer: it imports only edgenn.
//
// Dimensions: B batch, I in features, O out features.
import { GraphBuilder } from '../../runtime/graph/builder.js';
import { compile, type Model } from '../../runtime/model.js';
import { Arena } from '../../runtime/arena.js';
import { denseForward, denseBackward } from '../../runtime/ops/dense.js';
import { createWasmKernels } from '../../runtime/wasm/kernels.js';
import type { GemmData, GemmKernel, MlpDef } from './models.js';
import { ADAM, SGD_LR, type GemmCase, type Impl, type InferCase, type OptimizerChoice, type TrainCase } from './impl.js';

function buildGraph(def: MlpDef) {
  const sizes = def.spec.sizes;
  const g = new GraphBuilder(0);
  let h = g.input('input', [sizes[0]!]);
  for (let l = 0; l + 1 < sizes.length; l++) {
    h = g.dense(h, sizes[l + 1]!, { name: String(l), weight: def.weights[l]!, biasData: def.biases[l]! });
    if (l + 2 < sizes.length) h = def.spec.activation === 'tanh' ? g.tanh(h) : g.relu(h);
  }
  g.output(h);
  return g.build();
}

function copyRows(m: Model, B: number): Float32Array {
  const C = m.plan.outputs[0]!.dims[0]!;
  return m.outputView(0).slice(0, B * C);
}

export function createEdgenn(kernels: 'auto' | 'js'): Impl {
  // the kernels this process really gets ('auto' falls back to js without WebAssembly SIMD)
  const wasm = kernels === 'auto' ? createWasmKernels(0) : null;
  return {
    name: kernels === 'auto' ? 'edgenn' : 'edgenn-js',
    version: 'edgenn (this checkout)',
    config: wasm !== null ? 'WebAssembly SIMD kernels (dense, relu, optimizer) + TypeScript, 1 thread'
      : 'pure TypeScript kernels, 1 thread',
    async enter() { /* nothing global to switch */ },

    async infer(def: MlpDef, x: Float32Array, B: number): Promise<InferCase> {
      const m = compile(buildGraph(def), { maxBatch: B, kernels });
      return {
        call: { sync: true, fn: () => { m.run(x, B); } },
        async outputs() { m.run(x, B); return copyRows(m, B); },
        dispose() { /* the arena is garbage once the case is dropped */ },
      };
    },

    async train(def: MlpDef, x: Float32Array, labels: Int32Array, B: number, opt: OptimizerChoice): Promise<TrainCase> {
      const m = compile(buildGraph(def), {
        maxBatch: B,
        kernels,
        loss: { kind: 'cross-entropy' },
        optimizer: opt === 'sgd'
          ? { kind: 'sgd', lr: SGD_LR }
          : { kind: 'adam', lr: ADAM.lr, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps },
      });
      const loss = m.lossView;
      return {
        call: { sync: true, fn: () => { m.trainStep(x, labels, B); } },
        async stepLoss() { m.trainStep(x, labels, B); return loss[0]!; },
        dispose() { /* nothing outside the arena */ },
      };
    },

    async gemm(d: GemmData, kernel: GemmKernel): Promise<GemmCase> {
      const { B, I, O } = d.shape;
      const bytes = 4 * (2 * B * I + 2 * O * I + 2 * B * O) + 6 * 16;
      const k = kernels === 'auto' ? createWasmKernels(bytes) : null;
      const arena = k !== null ? new Arena(bytes, k.buffer, 0) : new Arena(bytes);
      const f = arena.f32;
      // float offsets; x (B, I), w (O, I), y (B, O), dy (B, O), dx (B, I), dw (O, I)
      const x = arena.alloc(4 * B * I) >> 2, w = arena.alloc(4 * O * I) >> 2, y = arena.alloc(4 * B * O) >> 2;
      const dy = arena.alloc(4 * B * O) >> 2, dx = arena.alloc(4 * B * I) >> 2, dw = arena.alloc(4 * O * I) >> 2;
      f.set(d.x, x);
      f.set(d.w, w);
      f.set(d.dy, dy);
      // NOTE: backward accumulates (+=) and the timed loop never zeroes, as in a training step
      // where zeroing the gradients is its own pass; values grow linearly, far from overflow.
      const fn = k !== null
        ? (kernel === 'fwd'
          ? () => { k.denseForward(y, x, w, -1, B, I, O, 0, 0); }
          : () => { k.denseBackward(dx, dw, -1, dy, x, w, B, I, O); })
        : (kernel === 'fwd'
          ? () => { denseForward(f, y, x, w, -1, B, I, O); }
          : () => { denseBackward(f, dx, dw, -1, dy, x, w, B, I, O); });
      return {
        call: { sync: true, fn },
        async outputs() {
          f.fill(0, y, y + B * O);
          f.fill(0, dx, dx + B * I);
          f.fill(0, dw, dw + O * I);
          fn();
          return kernel === 'fwd' ? [f.slice(y, y + B * O)] : [f.slice(dx, dx + B * I), f.slice(dw, dw + O * I)];
        },
        dispose() { /* arena dropped with the case */ },
      };
    },

    async dispose() { /* nothing global */ },
  };
}
