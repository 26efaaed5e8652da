// decodeModel / decodeTensor on real files: every reference .onnx fixture is checked against the
// independent description in its JSON (written by the generator from the python onnx package):
// IR version, opsets, producer, every node with its attributes, graph inputs/outputs, initializer
// names/types/shapes. Exactness: integers and shapes exact; float attributes are float32 in the
// file, so they must equal Math.fround of the JSON's double text (no tolerance needed).
// Then the element-type conversions (float16, bfloat16, 4- and 2-bit ints) are checked against the
// upstream Cast node tests, whose output is the exact same value in another type.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REFERENCE_DIR } from '../../helpers/reference.js';
import { decodeModel, loadModelFile, loadTensorFile } from '../../../importers/onnx/decode.js';
import { dataTypeName, type OnnxAttribute, type OnnxTensor } from '../../../importers/onnx/model.js';
import { floatToHalf, halfToFloat, floatToBfloat16, bfloat16ToFloat } from '../../../importers/onnx/tensor-data.js';

interface JsonValueInfo { name: string; dtype: string; shape: (number | string | null)[] | null }
interface JsonOnnx {
  file: string; ir_version: number; opset_imports: Record<string, number>; producer: string;
  nodes: { op_type: string; name: string; inputs: string[]; outputs: string[]; attrs: Record<string, unknown> }[];
  graph_inputs: JsonValueInfo[]; graph_outputs: JsonValueInfo[];
  initializers: { name: string; dtype: string; shape: number[] }[];
}

/** Every ONNX description in the reference JSON files (one file may describe several models). */
function describedModels(): JsonOnnx[] {
  const out: JsonOnnx[] = [];
  for (const f of readdirSync(REFERENCE_DIR).filter((x) => x.endsWith('.json') && x !== 'index.json')) {
    const j = JSON.parse(readFileSync(join(REFERENCE_DIR, f), 'utf8')) as { onnx?: JsonOnnx | JsonOnnx[] };
    if (j.onnx === undefined) continue;
    out.push(...(Array.isArray(j.onnx) ? j.onnx : [j.onnx]));
  }
  return out;
}

function num(v: number | bigint): number { return typeof v === 'bigint' ? Number(v) : v; }

function expectAttr(a: OnnxAttribute | undefined, want: unknown, where: string): void {
  expect(a, where).toBeDefined();
  if (typeof want === 'number') {
    if (a!.type === 'int') expect(a!.value, where).toBe(want);
    else if (a!.type === 'float') expect(a!.value, where).toBe(Math.fround(want));
    else throw new Error(`${where}: number expected, got ${a!.type}`);
  } else if (typeof want === 'string') {
    expect(a!.type, where).toBe('string');
    expect(a!.value, where).toBe(want);
  } else if (Array.isArray(want)) {
    expect(['ints', 'floats', 'strings']).toContain(a!.type);
    const got = a!.value as readonly (number | string)[];
    expect(got.length, where).toBe(want.length);
    want.forEach((w, i) => expect(got[i], where).toBe(a!.type === 'floats' ? Math.fround(w as number) : w));
  } else {
    const w = want as { tensor_dtype: string; dims: number[]; values?: number[] };
    expect(a!.type, where).toBe('tensor');
    const t = a!.value as OnnxTensor;
    expect(dataTypeName(t.dataType), where).toBe(w.tensor_dtype);
    expect(t.dims, where).toEqual(w.dims);
    if (w.values !== undefined) {
      const got = Array.from(t.data as ArrayLike<number | bigint>, num);
      const exp = w.tensor_dtype === 'FLOAT' ? w.values.map(Math.fround) : w.values;
      expect(got, where).toEqual(exp);
    }
  }
}

describe('decodeModel on the reference fixtures', () => {
  const models = describedModels();

  it('finds every .onnx fixture described', () => {
    const files = readdirSync(REFERENCE_DIR).filter((f) => f.endsWith('.onnx')).sort();
    expect(files.length).toBeGreaterThan(10);
    expect(models.map((m) => m.file).sort()).toEqual(files);
  });

  for (const d of models) {
    it(`${d.file} matches its JSON description`, () => {
      const m = loadModelFile(join(REFERENCE_DIR, d.file));
      expect(m.irVersion).toBe(d.ir_version);
      expect(Object.fromEntries(m.opsetImports)).toEqual(d.opset_imports);
      expect(`${m.producerName} ${m.producerVersion}`).toBe(d.producer);
      expect(m.graph.nodes.length).toBe(d.nodes.length);
      d.nodes.forEach((n, i) => {
        const g = m.graph.nodes[i]!;
        const where = `${d.file} node ${n.name}`;
        expect([g.opType, g.name, g.domain], where).toEqual([n.op_type, n.name, 'ai.onnx']);
        expect(g.inputs, where).toEqual(n.inputs);
        expect(g.outputs, where).toEqual(n.outputs);
        expect([...g.attributes.keys()].sort(), where).toEqual(Object.keys(n.attrs).sort());
        for (const [k, v] of Object.entries(n.attrs)) expectAttr(g.attributes.get(k), v, `${where}.${k}`);
      });
      const vi = (v: { name: string; elemType: number; shape: readonly (number | string | null)[] | null }) =>
        ({ name: v.name, dtype: dataTypeName(v.elemType), shape: v.shape });
      expect(m.graph.inputs.map(vi)).toEqual(d.graph_inputs);
      expect(m.graph.outputs.map(vi)).toEqual(d.graph_outputs);
      expect([...m.graph.initializers.values()].map((t) => ({ name: t.name, dtype: dataTypeName(t.dataType), shape: t.dims })))
        .toEqual(d.initializers);
      for (const t of m.graph.initializers.values()) {
        expect(t.data.length).toBe(t.dims.reduce((a, b) => a * b, 1));
      }
    });
  }

  it('decodes the bytes without a file (no external data needed)', () => {
    const bytes = readFileSync(join(REFERENCE_DIR, 'onnx_matmul_add.onnx'));
    const m = decodeModel(new Uint8Array(bytes));
    const w = m.graph.initializers.get('W')!;
    expect(w.data).toBeInstanceOf(Float32Array);
    expect(w.dims).toEqual([4, 5]);
    // first float of raw_data is bytes ea 6d 53 bf (little-endian) = -0.8258...
    expect(w.data[0]).toBe(new DataView(new Uint8Array([0xea, 0x6d, 0x53, 0xbf]).buffer).getFloat32(0, true));
  });
});

describe('element conversions agree with the upstream Cast node tests', () => {
  const NODE = join(FIXTURES, 'onnx-node-tests');
  const io = (c: string): [OnnxTensor, OnnxTensor] => [
    loadTensorFile(join(NODE, c, 'test_data_set_0', 'input_0.pb')),
    loadTensorFile(join(NODE, c, 'test_data_set_0', 'output_0.pb')),
  ];
  const values = (t: OnnxTensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, num);

  // exact widenings: the output holds the same numbers as the input
  const exact = readdirSync(NODE).filter((c) =>
    /^test_cast_(INT4_to_(FLOAT|FLOAT16|INT8)|UINT4_to_(FLOAT|FLOAT16|UINT8)|INT2_to_(FLOAT|FLOAT16|INT8)|UINT2_to_(FLOAT|FLOAT16|UINT8)|FLOAT16_to_(FLOAT|DOUBLE)|BFLOAT16_to_FLOAT|FLOAT_to_DOUBLE)$/.test(c));
  it('finds the widening cases', () => expect(exact.length).toBeGreaterThanOrEqual(15));
  for (const c of exact) {
    it(`${c}: input and output decode to the same values`, () => {
      const [x, y] = io(c);
      expect(x.dims).toEqual(y.dims);
      expect(values(x)).toEqual(values(y)); // toEqual treats NaN as equal to NaN
    });
  }

  it('test_cast_FLOAT_to_FLOAT16 / _BFLOAT16: our round-to-nearest-even gives upstream values', () => {
    for (const [c, to, back] of [
      ['test_cast_FLOAT_to_FLOAT16', floatToHalf, halfToFloat],
      ['test_cast_FLOAT_to_BFLOAT16', floatToBfloat16, bfloat16ToFloat],
    ] as const) {
      const [x, y] = io(c);
      const want = Array.from(x.data as Float32Array, (v) => back(to(v)));
      expect(values(y), c).toEqual(want);
    }
  });
});
