// Hostile and broken inputs: each must end in an EdgennError with the right code and naming the
// node/tensor at fault — wrong formats, truncation, unknown fields/types/IR versions, size limits
// (refused before allocating), int64 beyond 2^53, inconsistent tensor data, deep nesting, object
// floods, and external data (resolution, escapes by '..', absolute paths and symlinks).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, symlinkSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REFERENCE_DIR } from '../../helpers/reference.js';
import { decodeModel, decodeTensor, loadModelFile } from '../../../importers/onnx/decode.js';
import { encodeModel } from '../../../importers/onnx/encode.js';
import { encodeModelProto, bigIntToInt64, type ModelMsg, type TensorMsg, type AttributeMsg } from '../../../importers/onnx/proto.js';
import { EdgennError, type ErrorCode } from '../../../runtime/errors.js';
import { cat, fBytes, fVarint, model, node, valueInfo } from './pb-writer.js';

function fails(code: ErrorCode, f: () => unknown): EdgennError {
  try { f(); } catch (e) {
    if (!(e instanceof EdgennError)) throw e;
    expect(e.code, e.message).toBe(code);
    return e;
  }
  throw new Error(`expected an EdgennError ${code}`);
}

const i64 = (v: number | bigint) => bigIntToInt64(BigInt(v));

/** A ModelProto message: x -> Identity -> y, plus the given initializers and node attributes. */
function msg(inits: TensorMsg[] = [], attrs: AttributeMsg[] = [], irVersion = 8): ModelMsg {
  const vinfo = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: i64(2) }] } } } });
  return {
    irVersion: i64(irVersion), opsetImport: [{ domain: '', version: i64(13) }],
    graph: {
      name: 'g', node: [{ name: 'id0', opType: 'Identity', input: ['x'], output: ['y'], attribute: attrs }],
      initializer: inits, input: [vinfo('x')], output: [vinfo('y')],
    },
  };
}
const f32raw = (vals: number[]) => new Uint8Array(new Float32Array(vals).buffer);

describe('not ONNX at all', () => {
  it('empty input, wrong magic numbers and text are DECODE errors that say what the bytes look like', () => {
    fails('DECODE', () => decodeModel(new Uint8Array(0)));
    const cases: [string, Uint8Array][] = [
      ['ZIP', new Uint8Array([0x50, 0x4b, 3, 4, 20, 0, 0, 0])],
      ['NumPy', cat([0x93], Array.from(new TextEncoder().encode('NUMPY')), [1, 0])],
      ['JSON', new TextEncoder().encode('{"ir_version": 8}')],
      ['ONNX Runtime', cat([0, 0, 0, 0], Array.from(new TextEncoder().encode('ORTM')), [0, 0])],
      ['pickle', new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0x00])],
    ];
    for (const [what, b] of cases) expect(fails('DECODE', () => decodeModel(b)).message, what).toContain(what);
  });

  it('a TensorProto is not a model; random text is DECODE', () => {
    const pb = cat(fVarint(2, 1), fBytes(8, 't'), fBytes(9, f32raw([1])));
    expect(decodeTensor(pb).name).toBe('t');
    fails('DECODE', () => decodeModel(pb)); // no ir_version / graph
    fails('DECODE', () => decodeModel(new TextEncoder().encode('hello world, this is not protobuf')));
  });

  it('every truncation of a real model fails with DECODE or GRAPH, never a crash', () => {
    const b = readFileSync(join(REFERENCE_DIR, 'onnx_matmul_add.onnx'));
    for (let n = 1; n < b.length; n += 7) {
      try { decodeModel(b.subarray(0, n)); } catch (e) {
        expect(e, `prefix ${n}`).toBeInstanceOf(EdgennError);
      }
    }
    expect(fails('DECODE', () => decodeModel(b.subarray(0, b.length - 1))).message).toMatch(/truncated|past the end/);
  });
});

describe('what onnx-proto cannot represent', () => {
  it('IR version above 13 is UNSUPPORTED; 13 decodes', () => {
    expect(fails('UNSUPPORTED', () => decodeModel(encodeModelProto(msg([], [], 14)))).context.actual).toBe('14');
    expect(decodeModel(encodeModelProto(msg([], [], 13))).irVersion).toBe(13);
  });

  it('unknown and unrepresentable data types are UNSUPPORTED naming the tensor and type', () => {
    const e = fails('UNSUPPORTED', () => decodeModel(encodeModelProto(msg([{ name: 'w8', dataType: 17, dims: [i64(1)], rawData: new Uint8Array([1]) }]))));
    expect(e.context).toMatchObject({ tensor: 'w8', actual: 'FLOAT8E4M3FN' });
    const u = fails('UNSUPPORTED', () => decodeModel(encodeModelProto(msg([{ name: 'w99', dataType: 99, dims: [], rawData: new Uint8Array([1]) }]))));
    expect(u.context).toMatchObject({ tensor: 'w99', actual: 'unknown data type 99' });
    fails('UNSUPPORTED', () => decodeModel(encodeModelProto(msg([{ name: 's', dataType: 8, dims: [i64(1)], stringData: [new Uint8Array([65])] }]))));
    // a value_info element type from the future
    const m = msg();
    m.graph!.input![0]!.type!.tensorType!.elemType = 40;
    expect(fails('UNSUPPORTED', () => decodeModel(encodeModelProto(m))).context.tensor).toBe('x');
  });

  it('unknown / unsupported attribute types are UNSUPPORTED naming the node', () => {
    const e = fails('UNSUPPORTED', () => decodeModel(encodeModelProto(msg([], [{ name: 'weird', type: 42, i: i64(1) }]))));
    expect(e.context.node).toBe('id0');
    expect(e.message).toContain('weird');
    expect(fails('UNSUPPORTED', () => decodeModel(encodeModelProto(msg([], [{ name: 'tp', type: 13 }])))).context.actual).toBe('TYPE_PROTO');
    fails('DECODE', () => decodeModel(encodeModelProto(msg([], [{ name: 'untyped', i: i64(3) }]))));
  });

  it('fields onnx-proto would drop: refused when they change meaning, tolerated when metadata', () => {
    const g = [fBytes(1, node('Relu', ['x'], ['y'])), fBytes(11, valueInfo('x')), fBytes(12, valueInfo('y'))];
    expect(decodeModel(model(g)).graph.nodes[0]!.opType).toBe('Relu');
    // NodeProto.overload (field 8, IR 10) binds the node to a model-local function
    const overload = [fBytes(1, node('Relu', ['x'], ['y'], [fBytes(8, 'v2')])), ...g.slice(1)];
    expect(fails('UNSUPPORTED', () => decodeModel(model(overload))).message).toContain('overload');
    // an unknown top-level field
    // a field number no ONNX has is corruption (DECODE) ...
    expect(fails('DECODE', () => decodeModel(model(g, [fVarint(27, 1)]))).message).toContain('field 27 is not part of ModelProto');
    // ... unless the file says it is from a newer IR, which is UNSUPPORTED whatever it contains
    const newer = cat(fVarint(1, 14), fVarint(27, 1), fBytes(7, cat(...g)));
    expect(fails('UNSUPPORTED', () => decodeModel(newer)).context.actual).toBe('14');
    // metadata_props on a node (field 9, IR 10) carries no meaning: dropped
    const metaNode = [fBytes(1, node('Relu', ['x'], ['y'], [fBytes(9, cat(fBytes(1, 'k'), fBytes(2, 'v')))])), ...g.slice(1)];
    expect(decodeModel(model(metaNode)).graph.nodes.length).toBe(1);
  });

  it('a known field with the wrong wire type is DECODE (protobufjs would misread it)', () => {
    // ir_version (field 1) sent as a length-delimited field
    const g = [fBytes(1, node('Relu', ['x'], ['y'])), fBytes(11, valueInfo('x')), fBytes(12, valueInfo('y'))];
    const bytes = cat(fBytes(1, 'xx'), fBytes(8, cat(fBytes(1, ''), fVarint(2, 13))), fBytes(7, cat(...g)));
    expect(fails('DECODE', () => decodeModel(bytes)).message).toContain('wire type');
  });

  it('model-local functions, training info and sparse initializers are UNSUPPORTED', () => {
    fails('UNSUPPORTED', () => decodeModel(encodeModelProto({ ...msg(), functions: [{ name: 'f' }] } as ModelMsg)));
    fails('UNSUPPORTED', () => decodeModel(encodeModelProto({ ...msg(), trainingInfo: [{}] } as ModelMsg)));
  });
});

describe('sizes and limits', () => {
  it('a dim of 2^31 or more is LIMIT; a negative dim is DECODE', () => {
    const e = fails('LIMIT', () => decodeModel(encodeModelProto(msg([{ name: 'big', dataType: 1, dims: [i64(2 ** 31)], rawData: f32raw([1]) }]))));
    expect(e.context.tensor).toBe('big');
    fails('LIMIT', () => decodeModel(encodeModelProto(msg([{ name: 'huge', dataType: 1, dims: [i64(2n ** 62n)], rawData: f32raw([1]) }]))));
    fails('DECODE', () => decodeModel(encodeModelProto(msg([{ name: 'neg', dataType: 1, dims: [i64(-1)], rawData: f32raw([1]) }]))));
  });

  it('an absurd declared size is refused before allocation, even with little data', () => {
    // 2^30 x 2^30 floats = 4 EiB declared, 4 bytes present
    const e = fails('LIMIT', () => decodeModel(encodeModelProto(msg([{ name: 'w', dataType: 1, dims: [i64(2 ** 30), i64(2 ** 30)], rawData: f32raw([1]) }]))));
    expect(e.context).toMatchObject({ tensor: 'w' });
  });

  it('maxTensorBytes and maxTotalBytes are configurable', () => {
    const w = (name: string): TensorMsg => ({ name, dataType: 1, dims: [i64(4)], rawData: f32raw([1, 2, 3, 4]) }); // 16 bytes
    const bytes = encodeModelProto(msg([w('a'), w('b')]));
    expect(decodeModel(bytes, { maxTensorBytes: 16, maxTotalBytes: 32 }).graph.initializers.size).toBe(2);
    expect(fails('LIMIT', () => decodeModel(bytes, { maxTensorBytes: 15 })).context.tensor).toBe('a');
    expect(fails('LIMIT', () => decodeModel(bytes, { maxTotalBytes: 31 })).context.tensor).toBe('b');
  });

  it('an int attribute beyond 2^53 is LIMIT naming node and attribute; 2^53-1 decodes', () => {
    const e = fails('LIMIT', () => decodeModel(encodeModelProto(msg([], [{ name: 'ends', type: 2, i: i64(2n ** 63n - 1n) }]))));
    expect(e.context.node).toBe('id0');
    expect(e.message).toContain('ends');
    const ok = decodeModel(encodeModelProto(msg([], [{ name: 'n', type: 7, ints: [i64(2 ** 53 - 1), i64(-(2 ** 53) + 1)] }])));
    expect(ok.graph.nodes[0]!.attributes.get('n')).toEqual({ type: 'ints', value: [2 ** 53 - 1, -(2 ** 53) + 1] });
  });

  it('messages nested deeper than the limit are LIMIT, not a stack overflow', () => {
    // a graph attribute whose graph holds a node with a graph attribute ... 200 levels
    let g: Uint8Array = cat();
    for (let d = 0; d < 200; d++) {
      const attr = cat(fBytes(1, 'body'), fVarint(20, 5), fBytes(6, g));
      g = fBytes(1, node('If', [], [], [fBytes(5, attr)]));
    }
    fails('LIMIT', () => decodeModel(model([g])));
  });

  it('a flood of tiny values is LIMIT (maxObjects) before protobufjs builds them', () => {
    const inputs = new Array(5000).fill(fBytes(1, ''));
    fails('LIMIT', () => decodeModel(model([fBytes(1, cat(...inputs, fBytes(4, 'Sum')))]), { maxObjects: 1000 }));
  });
});

describe('inconsistent tensor data', () => {
  const one = (t: TensorMsg) => () => decodeModel(encodeModelProto(msg([t])));
  it('size mismatches, mixed storage and missing data are DECODE naming the tensor', () => {
    expect(fails('DECODE', one({ name: 'r', dataType: 1, dims: [i64(3)], rawData: f32raw([1, 2]) })).context.tensor).toBe('r');
    expect(fails('DECODE', one({ name: 'f', dataType: 1, dims: [i64(3)], floatData: [1, 2] })).context.tensor).toBe('f');
    fails('DECODE', one({ name: 'both', dataType: 1, dims: [i64(1)], floatData: [1], rawData: f32raw([1]) }));
    fails('DECODE', one({ name: 'wrongfield', dataType: 7, dims: [i64(1)], floatData: [1] }));
    fails('DECODE', one({ name: 'nodata', dataType: 1, dims: [i64(2)] }));
    fails('DECODE', one({ name: 'u32', dataType: 12, dims: [i64(1)], uint64Data: [i64(2 ** 40)] }));
    fails('DECODE', one({ name: '', dataType: 1, dims: [], floatData: [1] }));
    fails('GRAPH', () => decodeModel(encodeModelProto(msg([{ name: 'a', dataType: 1, dims: [], floatData: [1] }, { name: 'a', dataType: 1, dims: [], floatData: [2] }]))));
  });

  it('typed fields decode for every storage class', () => {
    const m = decodeModel(encodeModelProto(msg([
      { name: 'f', dataType: 1, dims: [i64(2)], floatData: [1.5, -2] },
      { name: 'i8', dataType: 3, dims: [i64(2)], int32Data: [-128, 127] },
      { name: 'h', dataType: 10, dims: [i64(2)], int32Data: [0x3c00, 0xc000] },
      { name: 'i4', dataType: 22, dims: [i64(3)], int32Data: [0x8f, 0x07] },
      { name: 'i64', dataType: 7, dims: [i64(2)], int64Data: [i64(-(2n ** 63n)), i64(2n ** 63n - 1n)] },
      { name: 'u64', dataType: 13, dims: [i64(1)], uint64Data: [i64(2n ** 64n - 1n)] },
      { name: 'u32', dataType: 12, dims: [i64(1)], uint64Data: [i64(2 ** 32 - 1)] },
      { name: 'd', dataType: 11, dims: [], doubleData: [0.1] },
      { name: 'b', dataType: 9, dims: [i64(2)], int32Data: [1, 0] },
      { name: 'empty', dataType: 1, dims: [i64(0), i64(5)] },
    ])));
    const d = (k: string) => Array.from(m.graph.initializers.get(k)!.data as ArrayLike<unknown>);
    expect(d('f')).toEqual([1.5, -2]);
    expect(d('i8')).toEqual([-128, 127]);
    expect(d('h')).toEqual([1, -2]);
    expect(d('i4')).toEqual([-1, -8, 7]);
    expect(d('i64')).toEqual([-(2n ** 63n), 2n ** 63n - 1n]);
    expect(d('u64')).toEqual([2n ** 64n - 1n]);
    expect(d('u32')).toEqual([2 ** 32 - 1]);
    expect(d('d')).toEqual([0.1]);
    expect(d('b')).toEqual([1, 0]);
    expect(d('empty')).toEqual([]);
  });
});

describe('external data', () => {
  let dir: string, outside: string;
  const values = [1.25, -2.5, 3.75, 4];
  beforeAll(() => {
    const root = mkdtempSync(join(tmpdir(), 'edgenn-extdata-'));
    dir = join(root, 'model');
    outside = join(root, 'outside');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(dir, 'weights.bin'), cat([9, 9, 9, 9], f32raw(values)));
    writeFileSync(join(dir, 'sub', 'w.bin'), f32raw(values));
    writeFileSync(join(outside, 'secret.bin'), f32raw(values));
    symlinkSync(join(outside, 'secret.bin'), join(dir, 'link.bin'));
    symlinkSync(outside, join(dir, 'linkdir'));
  });
  afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  const ext = (location: string, more: Record<string, string> = {}): Uint8Array => encodeModelProto(msg([{
    name: 'w', dataType: 1, dims: [i64(4)], dataLocation: 1,
    externalData: [{ key: 'location', value: location }, ...Object.entries(more).map(([key, value]) => ({ key, value }))],
  }]));
  const write = (name: string, bytes: Uint8Array): string => { const p = join(dir, name); writeFileSync(p, bytes); return p; };

  it('reads location/offset/length relative to the model folder', () => {
    const m = loadModelFile(write('m1.onnx', ext('weights.bin', { offset: '4', length: '16' })));
    expect(Array.from(m.graph.initializers.get('w')!.data as Float32Array)).toEqual(values);
    const m2 = loadModelFile(write('m2.onnx', ext('sub/w.bin')));
    expect(Array.from(m2.graph.initializers.get('w')!.data as Float32Array)).toEqual(values);
    // bytes + baseDir work without a file
    expect(decodeModel(ext('sub/w.bin'), { baseDir: dir }).graph.initializers.get('w')!.dims).toEqual([4]);
  });

  it("refuses '..', absolute paths and symlinks that lead outside (DECODE naming the tensor)", () => {
    for (const loc of ['../outside/secret.bin', 'sub/../../outside/secret.bin', join(outside, 'secret.bin'), 'link.bin', 'linkdir/secret.bin', 'C:\\x.bin']) {
      const e = fails('DECODE', () => loadModelFile(write('esc.onnx', ext(loc))));
      expect(e.context.tensor, loc).toBe('w');
    }
  });

  it('bad ranges, lengths, missing files and a missing folder are typed errors', () => {
    fails('DECODE', () => loadModelFile(write('r1.onnx', ext('weights.bin', { offset: '8' }))));      // runs past the end
    fails('DECODE', () => loadModelFile(write('r2.onnx', ext('weights.bin', { length: '12' }))));     // length != 16
    fails('DECODE', () => loadModelFile(write('r3.onnx', ext('weights.bin', { offset: '-4' }))));
    fails('DECODE', () => loadModelFile(write('r5.onnx', ext('sub'))));                               // a folder
    fails('IO', () => loadModelFile(write('r4.onnx', ext('missing.bin'))));
    fails('ARG', () => decodeModel(ext('weights.bin')));                                                 // no folder known
  });
});

describe('encodeModel refuses inconsistent tensors', () => {
  it('data length or storage class not matching dims/dataType is ARG', () => {
    const m = decodeModel(readFileSync(join(REFERENCE_DIR, 'onnx_matmul_add.onnx')));
    const bad = (w: object) => ({ ...m, graph: { ...m.graph, initializers: new Map([['W', { ...m.graph.initializers.get('W')!, ...w }]]) } });
    fails('ARG', () => encodeModel(bad({ dims: [4, 4] })));
    fails('ARG', () => encodeModel(bad({ data: new Float64Array(20) })));
  });
});
