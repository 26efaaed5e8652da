// decode -> encode -> decode is lossless: on every reference .onnx fixture, every node-test model
// that decodes, and every node-test .pb tensor that decodes. Exact equality (vitest toEqual: Maps by
// entries, typed arrays element by element, NaN equal to NaN, +0 distinct from -0) — encodeModel
// writes raw_data, so no value may change. Encoding is also a fixed point after one trip.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REFERENCE_DIR } from '../../helpers/reference.js';
import { decodeModel, decodeTensor } from '../../../importers/onnx/decode.js';
import { encodeModel, encodeTensor } from '../../../importers/onnx/encode.js';
import { tryReadBackendTestFolder } from '../../../importers/onnx/backend-test-layout.js';
import { EdgennError } from '../../../runtime/errors.js';
import { OnnxDataType, type OnnxModel, type OnnxTensor } from '../../../importers/onnx/model.js';

const NODE = join(FIXTURES, 'onnx-node-tests');

function tryDecode<T>(f: () => T): T | null {
  try { return f(); } catch (e) { if (e instanceof EdgennError && e.code === 'UNSUPPORTED') return null; throw e; }
}

describe('round trip decode -> encode -> decode', () => {
  it('every reference fixture model', () => {
    const files = readdirSync(REFERENCE_DIR).filter((f) => f.endsWith('.onnx'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const m = decodeModel(readFileSync(join(REFERENCE_DIR, f)));
      const bytes = encodeModel(m);
      const m2 = decodeModel(bytes);
      expect(m2, f).toEqual(m);
      expect(encodeModel(m2), f).toEqual(bytes);
    }
  });

  it('every node-test model and data file that decodes', () => {
    let models = 0, tensors = 0;
    for (const c of readdirSync(NODE).filter((d) => existsSync(join(NODE, d, 'model.onnx')))) {
      const m = tryDecode(() => decodeModel(readFileSync(join(NODE, c, 'model.onnx'))));
      if (m !== null) {
        expect(decodeModel(encodeModel(m)), c).toEqual(m);
        models++;
      }
      // data files through the layout reader, which knows which .pb files are not TensorProtos
      const r = tryReadBackendTestFolder(join(NODE, c));
      if (!r.ok) continue;
      for (const t of r.testCase.dataSets.flatMap((d) => [...d.inputs, ...d.outputs])) {
        expect(decodeTensor(encodeTensor(t)), `${c}/${t.name}`).toEqual(t);
        tensors++;
      }
    }
    expect(models).toBeGreaterThan(500);
    expect(tensors).toBeGreaterThan(1000);
  });

  it('keeps every attribute kind, value-info kinds, metadata and doc strings', () => {
    const t = (name: string, dataType: OnnxTensor['dataType'], dims: number[], data: OnnxTensor['data']): OnnxTensor =>
      ({ name, dataType, dims, data });
    const m: OnnxModel = {
      irVersion: 8, opsetImports: new Map([['ai.onnx', 17], ['com.example', 2]]),
      producerName: 'edgenn-test', producerVersion: '0', domain: 'org.edgenn', modelVersion: 3,
      docString: 'doc', metadata: new Map([['k', 'v']]),
      graph: {
        name: 'g', docString: 'graph doc',
        nodes: [{
          name: 'n0', opType: 'Custom', domain: 'com.example', inputs: ['x', ''], outputs: ['y'], docString: 'node doc',
          attributes: new Map([
            ['f', { type: 'float', value: Math.fround(0.1) }],
            ['i', { type: 'int', value: -(2 ** 40) }],
            ['s', { type: 'string', value: 'héllo' }],
            ['t', { type: 'tensor', value: t('c', OnnxDataType.INT64, [2], new BigInt64Array([-(2n ** 62n), 7n])) }],
            ['fs', { type: 'floats', value: [1.5, -2] }],
            ['is', { type: 'ints', value: [0, -1, 2 ** 50] }],
            ['ss', { type: 'strings', value: ['a', ''] }],
            ['ts', { type: 'tensors', value: [t('h', OnnxDataType.FLOAT16, [3], new Float32Array([1, -0, 65504]))] }],
            ['g', { type: 'graph', value: { name: 'body', nodes: [], initializers: new Map(), inputs: [], outputs: [], valueInfo: [] } }],
          ]),
        }],
        initializers: new Map([
          ['u4', t('u4', OnnxDataType.UINT4, [3], new Uint8Array([1, 15, 0]))],
          ['i2', t('i2', OnnxDataType.INT2, [5], new Int8Array([-2, -1, 0, 1, -2]))],
          ['b', t('b', OnnxDataType.BOOL, [2, 1], new Uint8Array([1, 0]))],
          ['u64', t('u64', OnnxDataType.UINT64, [1], new BigUint64Array([2n ** 64n - 1n]))],
          ['bf', t('bf', OnnxDataType.BFLOAT16, [], new Float32Array([-3.5]))],
        ]),
        inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['batch', 3, null],
          type: { kind: 'tensor', elemType: OnnxDataType.FLOAT, shape: ['batch', 3, null] } }],
        outputs: [{ name: 'y', elemType: OnnxDataType.UNDEFINED, shape: null,
          type: { kind: 'sequence', elem: { kind: 'tensor', elemType: OnnxDataType.INT8, shape: null } } }],
        valueInfo: [{ name: 'z', elemType: OnnxDataType.UNDEFINED, shape: null, type: null, docString: 'vi doc' }],
      },
    };
    expect(decodeModel(encodeModel(m))).toEqual(m);
  });
});
