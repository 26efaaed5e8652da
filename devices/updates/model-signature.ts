// The input/output signature of a model file, for the manifest (`edgenn sign`) and for checking a
// received model against its manifest. Decodes with the project's importers:
//   edgenn-json  importers/json-model.ts: the input's per-sample dims; outputs from the built graph
//                (per-sample dims of batched values, full dims otherwise)
//   onnx         importers/onnx/decode.ts: graph inputs that are not initializers, graph outputs,
//                each with its declared shape (symbolic dims as names, unknown as null)
// What it is not: no compile, no inference (the agent's validate callback smoke-runs the model).
import { extname } from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { jsonModelGraph, parseJsonModel } from '../../importers/json-model.js';
import { decodeModel } from '../../importers/onnx/decode.js';
import type { OnnxValueInfo } from '../../importers/onnx/model.js';
import type { ModelFormatId, TensorSignature } from './artifact.js';

export interface ModelSignature {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
}

/** The artifact format of a model file by its extension (.json, .onnx). */
export function formatOfPath(path: string): ModelFormatId {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'edgenn-json';
  if (ext === '.onnx') return 'onnx';
  throw new EdgennError('UNSUPPORTED', `cannot tell the model format from the extension ${ext === '' ? '(none)' : JSON.stringify(ext)}`,
    { file: path, expected: '.json (edgenn JSON model) or .onnx' });
}

function onnxSig(v: OnnxValueInfo): TensorSignature {
  return { name: v.name, dims: v.shape === null ? [] : [...v.shape] };
}

/** Decodes model bytes and returns their inputs/outputs; throws the importers' EdgennErrors. */
export function modelSignature(bytes: Uint8Array, format: ModelFormatId, file = '<model>'): ModelSignature {
  switch (format) {
    case 'edgenn-json': {
      const spec = parseJsonModel(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), file);
      const g = jsonModelGraph(spec, file);
      const sig = (id: number): TensorSignature => {
        const v = g.values[id]!;
        return { name: v.name, dims: [...v.dims] };
      };
      return { inputs: g.inputs.map(sig), outputs: g.outputs.map(sig) };
    }
    case 'onnx': {
      const m = decodeModel(bytes, { file });
      const inits = m.graph.initializers;
      // NOTE: before IR 4 every initializer is also listed as a graph input; those are weights.
      return { inputs: m.graph.inputs.filter((v) => !inits.has(v.name)).map(onnxSig), outputs: m.graph.outputs.map(onnxSig) };
    }
    default: {
      const never: never = format;
      throw new EdgennError('UNSUPPORTED', `model format ${String(never)}`, { file });
    }
  }
}

function dimsText(t: TensorSignature): string {
  return `${t.name}[${t.dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** null when a and b declare the same tensors (names and dims, in order); else what differs. */
export function signatureMismatch(expected: ModelSignature, actual: ModelSignature): { expected: string; actual: string } | null {
  const text = (s: ModelSignature): string => `inputs ${s.inputs.map(dimsText).join(', ')}; outputs ${s.outputs.map(dimsText).join(', ')}`;
  const e = text(expected);
  const a = text(actual);
  const same = (x: readonly TensorSignature[], y: readonly TensorSignature[]): boolean =>
    x.length === y.length && x.every((t, i) => t.name === y[i]!.name && t.dims.length === y[i]!.dims.length && t.dims.every((d, j) => d === y[i]!.dims[j]));
  return same(expected.inputs, actual.inputs) && same(expected.outputs, actual.outputs) ? null : { expected: e, actual: a };
}
