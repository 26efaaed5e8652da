// The one place the agent turns model bytes into a Graph: by format ('edgenn-json', the JSON model
// format, importers/json-model.ts; 'onnx', importers/onnx/import.ts — another format is one case in
// `decodeModelBytes` and one entry in AGENT_MODEL_FORMATS), plus the identity the fleet sees (id,
// version, SHA-256 of the bytes) and the check that the model matches the configured input/output
// signature (one float32 input, one float32 output). Format names are those of the update
// manifest (devices/updates/artifact.ts).
//
// What it is not: it does not compile (the agent compiles once for inference and once for
// training) and does not verify signatures (devices/updates does, before bytes ever get here).
//
// Decoding is async because the ONNX importer (with protobufjs and onnx-proto's generated code,
// ~3 MB of RSS once evaluated on Node 18) is imported on first use: an agent serving a JSON
// model never evaluates it (tools/bundle.ts: esbuild defers a dynamically imported module).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import type { Graph } from '../../runtime/graph/graph.js';
import { jsonModelGraph, parseJsonModel } from '../../importers/json-model.js';
import type { ModelInfo } from '../telemetry/schema.js';
import type { ModelFormatId } from '../updates/artifact.js';
import type { SignatureConfig } from './config.js';

export type AgentModelFormat = ModelFormatId;
/** The formats this agent can serve (an update in another format is refused before staging). */
export const AGENT_MODEL_FORMATS: readonly AgentModelFormat[] = ['edgenn-json', 'onnx'];
export const AGENT_MODEL_EXTENSIONS: readonly string[] = ['.json', '.onnx'];

export interface AgentModel {
  readonly graph: Graph;
  readonly format: AgentModelFormat;
  readonly info: ModelInfo;
  /** Where the bytes came from, for messages. */
  readonly source: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function formatOfName(name: string): AgentModelFormat {
  const ext = path.extname(name).toLowerCase();
  if (ext === '.json') return 'edgenn-json';
  if (ext === '.onnx') return 'onnx';
  throw new EdgennError('UNSUPPORTED', `unsupported model format ${ext === '' ? '(no extension)' : JSON.stringify(ext)}`,
    { file: name, expected: `one of ${AGENT_MODEL_EXTENSIONS.join(', ')}` });
}

/** Bytes of a model in `format` → its graph; `source` names it in errors. */
export async function decodeModelBytes(bytes: Uint8Array, format: AgentModelFormat, source: string): Promise<Graph> {
  switch (format) {
    case 'edgenn-json':
      // NOTE: the text (and the parsed spec with its number arrays, ~8 bytes per weight) is garbage
      // once the graph holds the weights as Float32Arrays: nothing here may keep a reference.
      return jsonModelGraph(parseJsonModel(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), source), source);
    case 'onnx': {
      const { importOnnx } = await import('../../importers/onnx/import.js');
      // Every parameterised layer trainable (fine-tuning decides nothing about which).
      return importOnnx(bytes, { file: source }).graph;
    }
    default: {
      const never: never = format;
      throw new EdgennError('UNSUPPORTED', `model format ${String(never)}`, { file: source });
    }
  }
}

/** Decodes bytes and names the model; id defaults to the source's file name without extension. */
export async function modelFromBytes(bytes: Uint8Array, format: AgentModelFormat, source: string,
  ident: { id?: string; version?: string } = {}): Promise<AgentModel> {
  const graph = await decodeModelBytes(bytes, format, source);
  const id = ident.id ?? path.basename(source, path.extname(source));
  return { graph, format, source, info: { id, version: ident.version ?? '0', hash: sha256Hex(bytes) } };
}

/** Reads a model file (format by extension). */
export async function loadModelFile(file: string, ident: { id?: string; version?: string } = {}): Promise<AgentModel> {
  const format = formatOfName(file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new EdgennError('IO', `cannot read model: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  return modelFromBytes(bytes, format, file, ident);
}

/** Per-sample dims of the graph's single input and output. */
export function graphSignature(g: Graph): { input: readonly number[]; output: readonly number[] } {
  if (g.inputs.length !== 1 || g.outputs.length !== 1) {
    throw new EdgennError('UNSUPPORTED', 'the agent serves models with one input and one output',
      { expected: '1 input, 1 output', actual: `${g.inputs.length} inputs, ${g.outputs.length} outputs` });
  }
  for (const id of [g.inputs[0]!, g.outputs[0]!]) {
    const v = g.values[id]!;
    // NOTE: JSON lines carry floats; an int64 ONNX input (token ids) would need another protocol.
    if (v.dtype !== 'f32' || !v.batched) {
      throw new EdgennError('UNSUPPORTED', 'the agent serves float32 inputs and outputs with a batch dimension',
        { tensor: v.name, expected: 'f32, batched', actual: `${v.dtype}${v.batched ? ', batched' : ', not batched'}` });
    }
  }
  return { input: g.values[g.inputs[0]!]!.dims, output: g.values[g.outputs[0]!]!.dims };
}

/** Throws SHAPE naming the tensor when the model's signature differs from the configured one. */
export function checkSignature(m: AgentModel, sig: SignatureConfig): void {
  const have = graphSignature(m.graph);
  const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
  const g = m.graph;
  if (!same(have.input, sig.input)) {
    throw new EdgennError('SHAPE', 'model input does not match signature.input of the config',
      { file: m.source, tensor: g.values[g.inputs[0]!]!.name, expected: `[${sig.input.join(', ')}]`, actual: `[${have.input.join(', ')}]` });
  }
  if (!same(have.output, sig.output)) {
    throw new EdgennError('SHAPE', 'model output does not match signature.output of the config',
      { file: m.source, tensor: g.values[g.outputs[0]!]!.name, expected: `[${sig.output.join(', ')}]`, actual: `[${have.output.join(', ')}]` });
  }
}
