// `edgenn quantize` and `edgenn train --qat` in-process:
//  - quantize calibrates a JSON model on a CSV, prints weight bytes (4x fewer for the weights),
//    arena bytes and float / int8 accuracy, and writes a QDQ ONNX model that onnxruntime runs
//    with edgenn's int8 outputs (within one output step: see test/importers/onnx/export-qdq.test.ts
//    for why not bit-exact);
//  - train --qat --out m.onnx writes the fake-quant (QDQ) model; quantize converts it without
//    calibration, with its own qparams;
//  - --qat-config is checked (unknown key -> exit 2, nothing written); --help lists the flags.
// Tolerances: exact for exit codes, strings and byte counts; accuracy: the int8 model of a tiny
// 3-class task stays within 0.2 of the float one (a learning signal, not a numeric reference).
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { cli, csv, modelJson, tempDir, threeClassRows } from './support.js';
import { importQdqInt8 } from '../../../importers/onnx/qdq.js';
import { compile } from '../../../runtime/model.js';

const t = tempDir('edgenn-quantize-');
const N = 60;
const { x, y } = threeClassRows(N);

beforeAll(() => {
  t.write('clf.json', modelJson([2], [{ type: 'dense', out: 16 }, { type: 'relu' }, { type: 'dense', out: 3 }]));
  t.write('train.csv', csv(['x1', 'x2', 'label'], x.map((r, i) => [...r, y[i]!])));
  t.write('x.csv', csv(['x1', 'x2'], x));
  t.write('y.csv', csv(['label'], y.map((v) => [v])));
  t.write('bad-config.json', JSON.stringify({ weights: { bitz: 4 } }));
  t.write('qat-config.json', JSON.stringify({ weights: { perChannel: false }, observer: 'minmax', freezeObserverAt: 20 }));
});
afterAll(() => t.cleanup());

const common = ['--loss', 'cross-entropy', '--optimizer', 'adam', '--lr', '0.05', '--epochs', '30', '--batch-size', '10'];

describe('edgenn quantize', () => {
  test('calibrate a trained JSON model, print bytes and accuracy, write QDQ ONNX that onnxruntime runs', async () => {
    expect((await cli(['train', 'clf.json', '--data', 'train.csv', ...common, '--out', 'trained.json'], t.dir)).code).toBe(0);
    const r = await cli(['quantize', 'trained.json', '--calibration', 'x.csv', '--labels', 'y.csv', '--per-channel', '--out', 'q.onnx'], t.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('calibrated on 60 rows; 2 int8 layer(s)');
    // 2*16 + 16*3 = 80 weights: 320 float32 bytes -> 80 int8 bytes
    expect(r.stdout).toContain('weights: float32 320 bytes -> int8 80 bytes (4.00x)');
    const acc = /accuracy on 60 rows: float32 ([\d.]+), int8 ([\d.]+)/.exec(r.stdout)!;
    expect(Number(acc[1])).toBeGreaterThan(0.8);
    expect(Math.abs(Number(acc[1]) - Number(acc[2]))).toBeLessThan(0.2);
    const bytes = new Uint8Array(readFileSync(t.path('q.onnx')));
    const s = await ort.InferenceSession.create(bytes);
    const xf = Float32Array.from(x.flat());
    const o = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', xf, [N, 2]) }))[s.outputNames[0]!]!.data as Float32Array;
    // edgenn reads its own file back as an int8 model: same outputs within one code of the output grid
    const mine = compile(importQdqInt8(bytes), { maxBatch: N }).run(xf);
    let worst = 0;
    for (let i = 0; i < o.length; i++) worst = Math.max(worst, Math.abs(o[i]! - mine[i]!));
    const scale = Math.max(...Array.from(o).map(Math.abs)) / 64; // a generous bound on one output step of a uint8 grid
    expect(worst).toBeLessThanOrEqual(scale);
  });

  test('train --qat --out .onnx writes the QDQ model; quantize converts it without calibration', async () => {
    const tr = await cli(['train', 'clf.json', '--data', 'train.csv', ...common, '--qat-config', 'qat-config.json', '--out', 'qat.onnx'], t.dir);
    expect(tr.stderr).toBe('');
    expect(tr.code).toBe(0);
    expect(tr.stdout).toContain('QAT: 5 fake-quant sites');
    const q = await cli(['quantize', 'qat.onnx', '--data', 'x.csv', '--labels', 'y.csv', '--out', 'qat.int8.onnx'], t.dir);
    expect(q.stderr).toBe('');
    expect(q.code).toBe(0);
    expect(q.stdout).toContain('quantization parameters from the model; 2 int8 layer(s)');
    expect(q.stdout).toContain('weights: float32 320 bytes -> int8 80 bytes (4.00x)');
    expect(q.stdout).toMatch(/accuracy on 60 rows: fake-quant \(the QDQ file\) [\d.]+, int8 [\d.]+/);
    expect(existsSync(t.path('qat.int8.onnx'))).toBe(true);
  });

  test('bad input: exit 2, nothing written', async () => {
    const a = await cli(['train', 'clf.json', '--data', 'train.csv', ...common, '--qat-config', 'bad-config.json', '--out', 'never.onnx'], t.dir);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('unknown QAT config key weights.bitz');
    expect(existsSync(t.path('never.onnx'))).toBe(false);
    const b = await cli(['quantize', 'clf.json', '--out', 'never.onnx'], t.dir);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('missing --calibration FILE');
    const c = await cli(['quantize', 'clf.json', '--calibration', 'x.csv', '--out', 'never.json'], t.dir);
    expect(c.code).toBe(2);
    expect(existsSync(t.path('never.onnx'))).toBe(false);
  });

  test('--help documents the flags', async () => {
    const h = (await cli(['quantize', '--help'], t.dir)).stdout;
    for (const f of ['calibration', 'out', 'per-channel', 'scheme', 'bits', 'observer', 'labels', 'data']) expect(h).toContain(`--${f}`);
    const tr = (await cli(['train', '--help'], t.dir)).stdout;
    expect(tr).toContain('--qat ');
    expect(tr).toContain('--qat-config FILE');
  });
});
