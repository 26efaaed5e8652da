// Shared helpers of the ONNX import/export tests: the reference cases that carry .onnx files (with
// their graph-level inputs, expected outputs and tolerance), RefTensor <-> OnnxTensor, and running
// an imported model on ONNX tensors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REFERENCE_DIR, f32, type RefCase, type RefTensor, type Tolerance } from '../../helpers/reference.js';
import { OnnxDataType, type OnnxTensor } from '../../../importers/onnx/model.js';
import { compile, type Model } from '../../../runtime/model.js';
import { writeInput, readOutput, type ImportedModel } from '../../../importers/onnx/import.js';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxDim } from '../../../importers/onnx/model.js';

export interface OnnxRefCase {
  readonly caseName: string;
  readonly kind: string;
  readonly file: string;
  readonly inputs: Record<string, RefTensor>;
  readonly expected: Record<string, RefTensor>;
  readonly tolerance: Tolerance;
  readonly c: RefCase;
}

interface OnnxEntry { file: string; io?: { inputs: Record<string, RefTensor>; expected: Record<string, RefTensor> }; tolerance?: Tolerance }

/** Every .onnx of the reference fixtures with the case that describes it. */
export function referenceOnnxCases(): OnnxRefCase[] {
  const out: OnnxRefCase[] = [];
  for (const f of readdirSync(REFERENCE_DIR).filter((n) => n.endsWith('.json') && n !== 'index.json').sort()) {
    const c = JSON.parse(readFileSync(join(REFERENCE_DIR, f), 'utf8')) as RefCase & { onnx?: OnnxEntry | OnnxEntry[]; onnx_io?: OnnxEntry['io'] };
    if (c.onnx === undefined) continue;
    for (const o of Array.isArray(c.onnx) ? c.onnx : [c.onnx]) {
      const io = o.io ?? c.onnx_io ?? { inputs: c.inputs, expected: c.expected };
      out.push({ caseName: c.name, kind: c.kind, file: join(REFERENCE_DIR, o.file), inputs: io.inputs, expected: io.expected, tolerance: o.tolerance ?? c.tolerance, c });
    }
  }
  return out;
}

export function toOnnxTensor(name: string, t: RefTensor): OnnxTensor {
  switch (t.dtype) {
    case 'float32': return { name, dataType: OnnxDataType.FLOAT, dims: t.shape, data: f32(t) };
    case 'float64': return { name, dataType: OnnxDataType.DOUBLE, dims: t.shape, data: Float64Array.from(t.data, Number) };
    case 'int64': return { name, dataType: OnnxDataType.INT64, dims: t.shape, data: BigInt64Array.from(t.data, (v) => BigInt(v)) };
    case 'int32': return { name, dataType: OnnxDataType.INT32, dims: t.shape, data: Int32Array.from(t.data, Number) };
    case 'int8': return { name, dataType: OnnxDataType.INT8, dims: t.shape, data: Int8Array.from(t.data, Number) };
    case 'uint8': return { name, dataType: OnnxDataType.UINT8, dims: t.shape, data: Uint8Array.from(t.data, Number) };
    case 'bool': return { name, dataType: OnnxDataType.BOOL, dims: t.shape, data: Uint8Array.from(t.data, Number) };
  }
}

/** Compiles (for the feeds' batch) and runs; returns every output as an ONNX tensor. */
export function runImported(im: ImportedModel, feeds: readonly OnnxTensor[], model?: Model): { outputs: OnnxTensor[]; model: Model } {
  const batch = Math.max(1, ...im.inputs.map((io, i) => (io.batched ? feeds[i]!.dims[0]! : 1)));
  const m = model ?? compile(im.graph, { maxBatch: batch });
  let b = 1;
  im.inputs.forEach((_, i) => { b = Math.max(b, writeInput(m, im, i, feeds[i]!)); });
  m.forward(b);
  return { outputs: im.outputs.map((_, i) => readOutput(m, im, i, b)), model: m };
}

// ---- hand-built ONNX models (plain OnnxModel values) ----

type AttrValue = number | string | readonly number[] | OnnxTensor | { readonly float: number };

function toAttr(v: AttrValue): OnnxAttribute {
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', value: v } : { type: 'float', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) return { type: 'ints', value: [...(v as number[])] };
  if ('float' in (v as object)) return { type: 'float', value: (v as { float: number }).float };
  return { type: 'tensor', value: v as OnnxTensor };
}

export function onnxNode(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, AttrValue> = {}, name = ''): OnnxNode {
  return { name, opType, domain: 'ai.onnx', inputs: [...inputs], outputs: [...outputs],
    attributes: new Map(Object.entries(attrs).map(([k, v]) => [k, toAttr(v)])) };
}

export function tensorF(name: string, dims: readonly number[], data: ArrayLike<number>): OnnxTensor {
  return { name, dataType: OnnxDataType.FLOAT, dims: [...dims], data: Float32Array.from(data) };
}
export function tensorI64(name: string, dims: readonly number[], data: readonly number[]): OnnxTensor {
  return { name, dataType: OnnxDataType.INT64, dims: [...dims], data: BigInt64Array.from(data, (v) => BigInt(v)) };
}

export interface ModelSpec {
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly { name: string; shape: readonly OnnxDim[]; elem?: OnnxDataType }[];
  readonly outputs: readonly { name: string; shape?: readonly OnnxDim[]; elem?: OnnxDataType }[];
  readonly initializers?: readonly OnnxTensor[];
  readonly opset?: number;
}

export function onnxModel(s: ModelSpec): OnnxModel {
  const vi = (v: { name: string; shape?: readonly OnnxDim[]; elem?: OnnxDataType }) => {
    const elemType = v.elem ?? OnnxDataType.FLOAT;
    const shape = v.shape ?? null;
    return { name: v.name, elemType, shape, type: { kind: 'tensor' as const, elemType, shape } };
  };
  return {
    irVersion: 8, opsetImports: new Map([['ai.onnx', s.opset ?? 17]]), producerName: 'test', producerVersion: '', domain: '',
    modelVersion: 1, docString: '', metadata: new Map(),
    graph: { name: 'g', nodes: s.nodes, initializers: new Map((s.initializers ?? []).map((t) => [t.name, t])),
      inputs: s.inputs.map(vi), outputs: s.outputs.map(vi), valueInfo: [] },
  };
}
