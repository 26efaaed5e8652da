// Peer adapter: onnxruntime-node (the native CPU runtime), the only file importing it.
// Session options are the library defaults (execution provider 'cpu', graph optimisations on,
// intra-op threads = onnxruntime's default for the machine), i.e. what a user gets out of the box.
import * as ort from 'onnxruntime-node';
import type { Impl } from '../impl.js';
import { createOrtImpl } from './ort-shared.js';

export function createOrtNode(): Impl {
  return createOrtImpl('ort-node', ort, { executionProviders: ['cpu'] },
    `onnxruntime-node ${ort.env.versions.node ?? '?'}`, 'native CPU EP, default intra-op threads');
}

/** One onnxruntime-node session over ONNX bytes, as a function of a float32 batch (the int8
 *  benchmark's seam: tools/bench/int8.ts). */
export async function ortNodeRunner(bytes: Uint8Array): Promise<(x: Float32Array, dims: readonly number[]) => Promise<Float32Array>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const input = s.inputNames[0]!, output = s.outputNames[0]!;
  return async (x, dims) => (await s.run({ [input]: new ort.Tensor('float32', x, [...dims]) }))[output]!.data as Float32Array;
}
