// Peer adapter: TensorFlow.js with its cpu backend (plain JS) and its wasm backend
// (@tensorflow/tfjs-backend-wasm, XNNPACK); the only file importing those packages. Both backends
// share tfjs's one global engine, so `enter()` switches the active backend before each timed round;
// every tensor of a case is created and used under its own backend, so no data moves between them.
//
// Each peer gets its fastest public path, as tf.layers.dense uses it: kernels stored (I, O),
// `tf.fused.matMul` with bias and relu fused (tanh is applied after, fused.matMul has no tanh),
// ops inside `tf.tidy`, results read with `dataSync()`. Training: `optimizer.minimize` over
// tf.variables with `tf.losses.softmaxCrossEntropy` (mean over the batch, like PyTorch's
// cross_entropy); tfjs has no class-index loss, so the one-hot targets are made once, before
// timing (a cost the peer does not pay in the loop).
//
// Dimensions: B batch, I in features, O out features, C classes.
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import type { GemmData, GemmKernel, MlpDef } from '../models.js';
import { ADAM, SGD_LR, type GemmCase, type Impl, type InferCase, type OptimizerChoice, type TrainCase } from '../impl.js';

type Backend = 'cpu' | 'wasm';

/** (O, I) row-major → (I, O) row-major. */
function transpose(w: Float32Array, O: number, I: number): Float32Array {
  const t = new Float32Array(I * O);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) t[i * O + o] = w[o * I + i]!;
  return t;
}

interface TfMlp {
  /** kernels (I, O) and biases (O) per layer */
  readonly kernels: tf.Tensor2D[];
  readonly biases: tf.Tensor1D[];
}

function forward(def: MlpDef, p: TfMlp, x: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  const L = p.kernels.length;
  for (let l = 0; l < L; l++) {
    const last = l === L - 1;
    const relu = !last && def.spec.activation === 'relu';
    h = tf.fused.matMul({ a: h, b: p.kernels[l]!, bias: p.biases[l]!, activation: relu ? 'relu' : 'linear' }) as tf.Tensor2D;
    if (!last && def.spec.activation === 'tanh') h = tf.tanh(h) as tf.Tensor2D;
  }
  return h;
}

export function createTfjs(backend: Backend): Impl {
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => { owned.push(t); return t; };
  let config = backend === 'cpu' ? 'cpu backend (plain JS)' : 'wasm backend (XNNPACK)';
  const enter = async (): Promise<void> => {
    if (tf.getBackend() !== backend) {
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} failed to initialise`);
      if (backend === 'wasm' && config === 'wasm backend (XNNPACK)') {
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
        config = `wasm backend (XNNPACK), SIMD ${simd ? 'on' : 'off'}, ${threads ? 'multi-threaded' : '1 thread'}`;
      }
    }
  };
  const params = (def: MlpDef, trainable: boolean): TfMlp => {
    const sizes = def.spec.sizes;
    const kernels: tf.Tensor2D[] = [], biases: tf.Tensor1D[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const I = sizes[l]!, O = sizes[l + 1]!;
      const k = tf.tensor2d(transpose(def.weights[l]!, O, I), [I, O]);
      const b = tf.tensor1d(def.biases[l]!);
      kernels.push(keep(trainable ? tf.variable(k) : k));
      biases.push(keep(trainable ? tf.variable(b) : b));
      if (trainable) { k.dispose(); b.dispose(); }
    }
    return { kernels, biases };
  };

  return {
    name: backend === 'cpu' ? 'tfjs-cpu' : 'tfjs-wasm',
    version: backend === 'cpu' ? `@tensorflow/tfjs ${tf.version_core}` : `@tensorflow/tfjs ${tf.version_core} + tfjs-backend-wasm ${version_wasm}`,
    get config() { return config; },
    enter,

    async infer(def: MlpDef, x: Float32Array, B: number): Promise<InferCase> {
      await enter();
      const p = params(def, false);
      const I = def.spec.sizes[0]!;
      const run = (): tf.Tensor2D => tf.tidy(() => forward(def, p, tf.tensor2d(x, [B, I])));
      return {
        call: { sync: true, fn: () => { const y = run(); y.dataSync(); y.dispose(); } },
        async outputs() { const y = run(); const v = Float32Array.from(y.dataSync()); y.dispose(); return v; },
        dispose() { /* owned tensors disposed with the impl */ },
      };
    },

    async train(def: MlpDef, x: Float32Array, labels: Int32Array, B: number, opt: OptimizerChoice): Promise<TrainCase> {
      await enter();
      const p = params(def, true);
      const sizes = def.spec.sizes;
      const C = sizes[sizes.length - 1]!;
      const xs = keep(tf.tensor2d(x, [B, sizes[0]!]));
      const ys = keep(tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), C).toFloat()));
      const vars = [...p.kernels, ...p.biases] as tf.Variable[];
      const optimizer = opt === 'sgd' ? tf.train.sgd(SGD_LR) : tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
      const lossFn = (): tf.Scalar => tf.losses.softmaxCrossEntropy(ys, forward(def, p, xs)) as tf.Scalar;
      return {
        call: { sync: true, fn: () => { optimizer.minimize(lossFn, false, vars); } },
        async stepLoss() {
          const c = optimizer.minimize(lossFn, true, vars)!;
          const v = c.dataSync()[0]!;
          c.dispose();
          return v;
        },
        dispose() { optimizer.dispose(); },
      };
    },

    async gemm(d: GemmData, kernel: GemmKernel): Promise<GemmCase> {
      await enter();
      const { B, I, O } = d.shape;
      const x = keep(tf.tensor2d(d.x, [B, I]));
      const k = keep(tf.tensor2d(transpose(d.w, O, I), [I, O]));
      const dy = keep(tf.tensor2d(d.dy, [B, O]));
      if (kernel === 'fwd') {
        return {
          call: { sync: true, fn: () => { tf.matMul(x, k).dispose(); } },
          async outputs() { const y = tf.matMul(x, k); const v = Float32Array.from(y.dataSync()); y.dispose(); return [v]; },
          dispose() { /* owned */ },
        };
      }
      // what tfjs's own matMul gradient computes: dx = dy kᵀ (B, I), dk = xᵀ dy (I, O)
      return {
        call: { sync: true, fn: () => { tf.matMul(dy, k, false, true).dispose(); tf.matMul(x, dy, true, false).dispose(); } },
        async outputs() {
          const dx = tf.matMul(dy, k, false, true), dk = tf.matMul(x, dy, true, false);
          const r = [Float32Array.from(dx.dataSync()), transpose(Float32Array.from(dk.dataSync()), I, O)];
          dx.dispose();
          dk.dispose();
          return r;
        },
        dispose() { /* owned */ },
      };
    },

    async dispose() {
      await enter();
      for (const t of owned) t.dispose();
      owned.length = 0;
    },
  };
}

/** Live tensors in tfjs's engine (a leak check for the adapter). */
export function tfjsLiveTensors(): number {
  return tf.memory().numTensors;
}
