// Conformance runner for folders in the ONNX backend-test layout (model.onnx +
// test_data_set_N/{input,output}_K.pb): import, compile, run every data set and compare each output
// the way the upstream runner does (compareLikeUpstream: same dtype and shape, rtol 1e-3, atol 1e-7,
// exact for integers). A case is 'skip' with a reason when edgenn refuses it for a stated reason
// (a type outside float32/float64/int64/int32/int8/uint8/bool, a sequence/optional value, an op or
// attribute edgenn does not implement, a random training-mode dropout) and 'fail' when it imports
// but computes something else, or breaks in any other way. Inputs the importer needs at import
// (Reshape shape, axes, ...) are bound from the data set (node tests feed them as graph inputs).
// It is NOT a test framework: it returns results; the CLI and the tests decide what they mean.
import { readdirSync, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { compile } from '../../runtime/model.js';
import { tryReadBackendTestFolder, compareLikeUpstream } from './backend-test-layout.js';
import { dataTypeName, type OnnxTensor } from './model.js';
import { importOnnx, constRequiredInputs, writeInput, readOutput } from './import.js';
import { SUPPORTED_ELEMS } from './import-context.js';

export interface ConformanceResult {
  readonly name: string;
  readonly dir: string;
  /** op types of the model's nodes (one for single-node tests) */
  readonly opTypes: readonly string[];
  readonly status: 'pass' | 'fail' | 'skip';
  /** why it was skipped or how it failed; '' on pass */
  readonly reason: string;
}

/** Runs one backend-test folder. Never throws for a broken case (it is a 'fail'). */
export function runConformanceCase(dir: string): ConformanceResult {
  const name = basename(dir);
  const read = tryReadBackendTestFolder(dir);
  if (!read.ok) {
    return { name, dir, opTypes: [], status: read.code === 'UNSUPPORTED' ? 'skip' : 'fail', reason: read.reason };
  }
  const { model, dataSets } = read.testCase;
  const opTypes = [...new Set(model.graph.nodes.map((n) => n.opType))];
  const res = (status: ConformanceResult['status'], reason: string): ConformanceResult => ({ name, dir, opTypes, status, reason });
  const types = [...model.graph.inputs, ...model.graph.outputs].map((v) => v.elemType).filter((t) => !SUPPORTED_ELEMS.has(t));
  if (types.length > 0) return res('skip', `type ${dataTypeName(types[0]!)} is outside the supported set`);
  if (dataSets.length === 0) return res('fail', 'no test_data_set folder');
  try {
    const feeds = model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name));
    const mustBind = new Set(constRequiredInputs(model));
    for (const ds of dataSets) {
      const bind = new Map<string, OnnxTensor>();
      feeds.forEach((v, i) => { if (mustBind.has(v.name) && ds.inputs[i] !== undefined) bind.set(v.name, ds.inputs[i]!); });
      // a first dim declared 0 or -1 would read as a batch axis; node tests mean a real (often
      // empty) size there, so those inputs get the data's static shape
      const inputDims: Record<string, readonly number[]> = {};
      feeds.forEach((v, i) => {
        const d0 = v.shape?.[0];
        if ((d0 === 0 || d0 === -1) && ds.inputs[i] !== undefined) inputDims[v.name] = ds.inputs[i]!.dims;
      });
      const im = importOnnx(model, { file: join(dir, 'model.onnx'), bind, inputDims });
      const runtimeFeeds = feeds.map((v, i) => ({ v, t: ds.inputs[i] })).filter((f) => !bind.has(f.v.name));
      if (runtimeFeeds.some((f) => f.t === undefined)) return res('fail', `${ds.name}: fewer input files than graph inputs`);
      const batch = Math.max(1, ...im.inputs.map((io, i) => (io.batched ? runtimeFeeds[i]!.t!.dims[0] ?? 1 : 1)));
      const m = compile(im.graph, { maxBatch: batch });
      let b = 1;
      im.inputs.forEach((_, i) => { b = Math.max(b, writeInput(m, im, i, runtimeFeeds[i]!.t!)); });
      m.forward(b);
      if (ds.outputs.length !== im.outputs.length) return res('fail', `${ds.name}: ${im.outputs.length} outputs, expected ${ds.outputs.length}`);
      for (let i = 0; i < ds.outputs.length; i++) {
        const diff = compareLikeUpstream(readOutput(m, im, i, b), ds.outputs[i]!);
        if (diff !== null) return res('fail', `${ds.name}: ${diff}`);
      }
    }
    return res('pass', '');
  } catch (e) {
    if (e instanceof EdgennError && e.code === 'UNSUPPORTED') return res('skip', firstLine(e.message));
    return res('fail', e instanceof Error ? `${e.name}: ${firstLine(e.message)}` : String(e));
  }
}

/** Every backend-test case below dir (dir itself when it holds a model.onnx), sorted by name. */
export function runConformance(dir: string): ConformanceResult[] {
  if (!existsSync(dir)) throw new EdgennError('IO', 'no such folder', { file: dir });
  if (existsSync(join(dir, 'model.onnx'))) return [runConformanceCase(dir)];
  return readdirSync(dir).sort()
    .map((d) => join(dir, d))
    .filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'model.onnx')))
    .map(runConformanceCase);
}

/** pass / fail / skip counts per key (e.g. the op type of each case). */
export function tally(results: readonly ConformanceResult[], keyOf: (r: ConformanceResult) => string = (r) => r.opTypes.join('+') || '?'):
  Map<string, { pass: number; fail: number; skip: number }> {
  const m = new Map<string, { pass: number; fail: number; skip: number }>();
  for (const r of results) {
    const k = keyOf(r);
    const t = m.get(k) ?? { pass: 0, fail: 0, skip: 0 };
    t[r.status]++;
    m.set(k, t);
  }
  return new Map([...m].sort((a, b) => a[0].localeCompare(b[0])));
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : `${s.slice(0, i)} ...`;
}
