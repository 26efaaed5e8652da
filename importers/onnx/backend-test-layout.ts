// Reads a folder in the ONNX backend-test layout (onnx/backend/test/data/node/<case>/):
//   model.onnx
//   test_data_set_0/input_0.pb ... input_K.pb    (TensorProto, matched to graph inputs by position)
//   test_data_set_0/output_0.pb ... output_K.pb  (TensorProto, matched to graph outputs)
// and compares tensors the way the upstream runner does (assert_similar_outputs). It does NOT run
// anything. Inputs match the graph inputs that are not initializers, in order (node tests have no
// initializers; for older models that list initializers as inputs this is what runtimes feed).
// Data files whose graph value is a sequence / optional / map (SequenceProto, OptionalProto,
// MapProto in the file) are reported as UNSUPPORTED with that reason: onnx-proto has no such
// messages and a TensorProto decode of them would be garbage.
import { readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EdgennError, type ErrorCode } from '../../runtime/errors.js';
import { dataTypeName, OnnxDataType, type OnnxModel, type OnnxTensor, type OnnxValueInfo } from './model.js';
import { loadModelFile, loadTensorFile, type DecodeOptions } from './decode.js';

export interface BackendTestDataSet {
  readonly name: string;             // 'test_data_set_0'
  readonly inputs: OnnxTensor[];
  readonly outputs: OnnxTensor[];
}

export interface BackendTestCase {
  readonly dir: string;
  readonly model: OnnxModel;
  readonly dataSets: BackendTestDataSet[];
}

export type BackendTestResult =
  | { readonly ok: true; readonly testCase: BackendTestCase }
  | { readonly ok: false; readonly code: ErrorCode; readonly reason: string; readonly message: string };

/** Throws EdgennError: 'UNSUPPORTED' (with the reason) for what edgenn cannot read, or the
 *  decoder's code ('DECODE', 'LIMIT', 'GRAPH', 'IO', 'DATA') for broken cases. */
export function readBackendTestFolder(dir: string, opts: DecodeOptions = {}): BackendTestCase {
  const modelPath = join(dir, 'model.onnx');
  if (!existsSync(modelPath)) throw new EdgennError('IO', 'no model.onnx in backend-test folder', { file: modelPath });
  const model = loadModelFile(modelPath, opts);
  const feeds = model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name));

  const setNames = readdirSync(dir)
    .filter((d) => /^test_data_set_[0-9]+$/.test(d) && statSync(join(dir, d)).isDirectory())
    .sort((a, b) => setIndex(a) - setIndex(b));
  const dataSets = setNames.map((name): BackendTestDataSet => {
    const folder = join(dir, name);
    const files = readdirSync(folder);
    return {
      name,
      inputs: readSeries(folder, files, 'input', feeds, opts),
      outputs: readSeries(folder, files, 'output', model.graph.outputs, opts),
    };
  });
  return { dir, model, dataSets };
}

/** readBackendTestFolder, with every EdgennError turned into a reason (never throws one). */
export function tryReadBackendTestFolder(dir: string, opts: DecodeOptions = {}): BackendTestResult {
  try {
    return { ok: true, testCase: readBackendTestFolder(dir, opts) };
  } catch (e) {
    if (!(e instanceof EdgennError)) throw e;
    return { ok: false, code: e.code, reason: `${e.code}: ${e.context.actual ?? e.message}`, message: e.message };
  }
}

function setIndex(name: string): number {
  return Number(name.slice('test_data_set_'.length));
}

function readSeries(folder: string, files: readonly string[], kind: 'input' | 'output',
                    values: readonly OnnxValueInfo[], opts: DecodeOptions): OnnxTensor[] {
  const re = new RegExp(`^${kind}_([0-9]+)\\.pb$`);
  const indices = files.map((f) => re.exec(f)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1])).sort((a, b) => a - b);
  indices.forEach((k, i) => {
    if (k !== i) throw new EdgennError('DATA', `${kind}_${i}.pb is missing`, { file: join(folder, `${kind}_${k}.pb`) });
  });
  if (indices.length > values.length) {
    throw new EdgennError('DATA', `${indices.length} ${kind} files for ${values.length} graph ${kind}s`,
      { file: folder, expected: `<= ${values.length}`, actual: String(indices.length) });
  }
  return indices.map((k) => {
    const file = join(folder, `${kind}_${k}.pb`);
    const v = values[k]!;
    const kindOf = v.type?.kind;
    if (kindOf !== undefined && kindOf !== 'tensor') {
      const proto = kindOf === 'sequence' ? 'SequenceProto' : kindOf === 'optional' ? 'OptionalProto'
        : kindOf === 'map' ? 'MapProto' : 'SparseTensorProto';
      throw new EdgennError('UNSUPPORTED', `graph ${kind} '${v.name}' is a ${kindOf}, its data file is a ${proto}`,
        { file, tensor: v.name, actual: proto });
    }
    const t = loadTensorFile(file, opts);
    if (v.elemType !== OnnxDataType.UNDEFINED && t.dataType !== v.elemType) {
      throw new EdgennError('DATA', `data file type does not match graph ${kind} '${v.name}'`,
        { file, tensor: v.name, expected: dataTypeName(v.elemType), actual: dataTypeName(t.dataType) });
    }
    return t;
  });
}

/** The upstream runner's check: same dtype and shape, then |a - e| <= atol + rtol*|e| for floats
 *  (NaN equals NaN, infinities must match exactly), exact equality for integers and bools.
 *  Returns null when the tensors agree, else a description of the first mismatch and the count. */
export function compareLikeUpstream(actual: OnnxTensor, expected: OnnxTensor, rtol = 1e-3, atol = 1e-7): string | null {
  const name = expected.name !== '' ? expected.name : actual.name;
  if (actual.dataType !== expected.dataType) {
    return `${name}: dtype ${dataTypeName(actual.dataType)} != expected ${dataTypeName(expected.dataType)}`;
  }
  if (actual.dims.length !== expected.dims.length || actual.dims.some((d, i) => d !== expected.dims[i])) {
    return `${name}: shape [${actual.dims.join(', ')}] != expected [${expected.dims.join(', ')}]`;
  }
  const a = actual.data, e = expected.data;
  if (a.length !== e.length) return `${name}: ${a.length} elements != expected ${e.length}`;
  const isFloat = a instanceof Float32Array || a instanceof Float64Array;
  let bad = 0, first = -1;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!, y = e[i]!;
    if (x === y) continue;
    if (isFloat) {
      const xf = x as number, yf = y as number;
      if (Number.isNaN(xf) && Number.isNaN(yf)) continue;
      if (Number.isFinite(xf) && Number.isFinite(yf) && Math.abs(xf - yf) <= atol + rtol * Math.abs(yf)) continue;
    }
    if (first < 0) first = i;
    bad++;
  }
  if (bad === 0) return null;
  const tol = isFloat ? ` (rtol=${rtol}, atol=${atol})` : ' (exact)';
  return `${name}: ${bad} of ${e.length} elements differ${tol}; first at flat index ${first}: ${String(a[first])} vs expected ${String(e[first])}`;
}
