// What onnxruntime-node and onnxruntime-web have in common under the benchmark's Impl seam: both
// expose the onnxruntime-common API (InferenceSession, Tensor), so one function builds the cases
// from a module namespace handed in by the two adapter files (ort-node.ts, ort-web.ts), which are
// the only files importing the packages. This file imports neither.
//
// Each timed call is what a user writes: wrap the input Float32Array in a Tensor, `await
// session.run(feeds)`, read the output tensor's data. onnxruntime has no training API here, so
// `train` returns null (reported n/a).
import type { GemmData, GemmKernel, MlpDef } from '../models.js';
import type { GemmCase, Impl, ImplName, InferCase, TrainCase } from '../impl.js';
import { gemmOnnx, mlpOnnx } from '../onnx-models.js';

/** The part of a Tensor the benchmark reads. */
interface OrtTensorLike {
  readonly data: unknown;
}
interface OrtSessionLike {
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}
/** The slice of an onnxruntime module namespace the benchmark uses. */
export interface OrtModuleLike<S extends OrtSessionLike = OrtSessionLike, T extends OrtTensorLike = OrtTensorLike> {
  readonly InferenceSession: { create(bytes: Uint8Array, options?: object): Promise<S> };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => T;
}

function f32(t: OrtTensorLike | undefined, what: string): Float32Array {
  const d = t?.data;
  if (!(d instanceof Float32Array)) throw new Error(`onnxruntime output ${what} is not a Float32Array`);
  return d;
}

export function createOrtImpl(name: ImplName, ort: OrtModuleLike, sessionOptions: object,
                              version: string, config: string): Impl {
  const sessions: OrtSessionLike[] = [];
  const open = async (bytes: Uint8Array): Promise<OrtSessionLike> => {
    const s = await ort.InferenceSession.create(bytes, sessionOptions);
    sessions.push(s);
    return s;
  };
  return {
    name,
    version,
    config,
    async enter() { /* sessions are independent objects: nothing global to switch */ },

    async infer(def: MlpDef, x: Float32Array, B: number): Promise<InferCase> {
      const s = await open(mlpOnnx(def));
      const dims = [B, def.spec.sizes[0]!];
      const run = () => s.run({ x: new ort.Tensor('float32', x, dims) });
      return {
        call: { sync: false, fn: async () => { f32((await run())['y'], 'y'); } },
        async outputs() { return f32((await run())['y'], 'y').slice(); },
        dispose() { /* released with the impl */ },
      };
    },

    async train(): Promise<TrainCase | null> {
      return null;
    },

    async gemm(d: GemmData, kernel: GemmKernel): Promise<GemmCase> {
      const { B, I, O } = d.shape;
      const s = await open(gemmOnnx(d, kernel));
      if (kernel === 'fwd') {
        const run = () => s.run({ x: new ort.Tensor('float32', d.x, [B, I]) });
        return {
          call: { sync: false, fn: async () => { f32((await run())['y'], 'y'); } },
          async outputs() { return [f32((await run())['y'], 'y').slice()]; },
          dispose() { /* released with the impl */ },
        };
      }
      const run = () => s.run({ dy: new ort.Tensor('float32', d.dy, [B, O]), x: new ort.Tensor('float32', d.x, [B, I]) });
      return {
        call: { sync: false, fn: async () => { const r = await run(); f32(r['dx'], 'dx'); f32(r['dw'], 'dw'); } },
        async outputs() { const r = await run(); return [f32(r['dx'], 'dx').slice(), f32(r['dw'], 'dw').slice()]; },
        dispose() { /* released with the impl */ },
      };
    },

    async dispose() {
      for (const s of sessions) await s.release();
      sessions.length = 0;
    },
  };
}
