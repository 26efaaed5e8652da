// The ONNX commands of the CLI, run in-process: `edgenn inspect`, `edgenn export`, `edgenn
// conformance`, and `.onnx` models in `edgenn run` / `edgenn train` (tools/cli/load-model.ts).
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync, cpSync } from 'node:fs';
import { cli, tempDir, modelJson, csv } from '../../tools/cli/support.js';
import { FIXTURES, REFERENCE_DIR } from '../../helpers/reference.js';
import { decodeModel } from '../../../importers/onnx/decode.js';
import { encodeModel } from '../../../importers/onnx/encode.js';
import { onnxModel, onnxNode } from './onnx-helpers.js';

const t = tempDir('edgenn-onnx-cli-');
afterAll(() => t.cleanup());
const NODE = join(FIXTURES, 'onnx-node-tests');

describe('edgenn inspect', () => {
  it('reports I/O, opsets, producer, ops, parameters, arena bytes and trainable layers', async () => {
    const r = await cli(['inspect', join(REFERENCE_DIR, 'conv1d_model_onnx.onnx'), '--batch', '8'], t.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('IR version 7, opsets ai.onnx 13, producer pytorch 1.13.0');
    expect(r.stdout).toContain('input FLOAT [batch, 1, 16]');
    expect(r.stdout).toContain('Conv 1, Relu 1, Flatten 1, Gemm 1');
    expect(r.stdout).toMatch(/parameters: 211 \(4 tensors\)/);
    expect(r.stdout).toMatch(/arena for batch 8: inference \d+ bytes, training \(SGD\) \d+ bytes/);
    expect(r.stdout).toContain('/0/Conv (Conv: 0.weight, 0.bias)');
    expect(r.stdout).toContain('unsupported nodes: none');
    const j = JSON.parse((await cli(['inspect', join(REFERENCE_DIR, 'conv1d_model_onnx.onnx'), '--json', '--batch', '2'], t.dir)).stdout);
    expect(j.parameters).toBe(4 * 3 + 4 + 3 * 64 + 3);
    expect(j.layers.map((l: { trainable: boolean }) => l.trainable)).toEqual([true, true]);
    expect(j.arenaBytes.training).toBeGreaterThan(j.arenaBytes.inference);
  });
  it('lists every unsupported node and exits 1', async () => {
    const m = onnxModel({ nodes: [onnxNode('LSTM', ['x'], ['a'], {}, 'l1'), onnxNode('Relu', ['a'], ['b']), onnxNode('Einsum', ['b'], ['y'], {}, 'e1')],
      inputs: [{ name: 'x', shape: ['batch', 3] }], outputs: [{ name: 'y' }] });
    const f = t.write('bad.onnx', encodeModel(m));
    const r = await cli(['inspect', f], t.dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('unsupported nodes (2)');
    expect(r.stdout).toContain('LSTM (domain ai.onnx, opset 17) at node l1');
    expect(r.stdout).toContain('Einsum (domain ai.onnx, opset 17) at node e1');
  });
});

describe('edgenn export', () => {
  it('writes a JSON model as ONNX at opset 13 and an ONNX model at opset 17', async () => {
    const model = t.write('m.json', modelJson([3], [{ type: 'dense', out: 4 }, { type: 'relu' }, { type: 'dense', out: 2 }]));
    const r = await cli(['export', model, '--out', 'm.onnx', '--opset', '13'], t.dir);
    expect(r.code, r.stderr).toBe(0);
    const m = decodeModel(readFileSync(t.path('m.onnx')));
    expect([m.producerName, m.irVersion, m.opsetImports.get('ai.onnx')]).toEqual(['edgenn', 7, 13]);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm']);
    const r2 = await cli(['export', join(REFERENCE_DIR, 'onnx_torch_mlp_opset11.onnx'), '--out', 'mlp.onnx'], t.dir);
    expect(r2.code, r2.stderr).toBe(0);
    expect(decodeModel(readFileSync(t.path('mlp.onnx'))).irVersion).toBe(8);
    expect((await cli(['export', model, '--out', 'x.onnx', '--opset', '12'], t.dir)).code).toBe(2);
  });
});

describe('edgenn run / train with .onnx models', () => {
  it('runs an ONNX model on a CSV file', async () => {
    const data = t.write('x.csv', csv(['a', 'b'], [[0, 0], [0, 1], [1, 0], [1, 1]]));
    const r = await cli(['run', join(REFERENCE_DIR, 'mlp_grad_xor_sigmoid.onnx'), data], t.dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout).outputs.output;
    expect(out.dims).toEqual([4, 1]);
    expect(out.data.every((v: number) => v > 0 && v < 1)).toBe(true);
  });
});

describe('edgenn conformance', () => {
  it('passes a folder of node tests and fails a broken case with exit code 1', async () => {
    for (const c of ['test_relu', 'test_gemm_all_attributes', 'test_cast_FLOAT_to_FLOAT16']) cpSync(join(NODE, c), t.path(`cases/${c}`), { recursive: true });
    const r = await cli(['conformance', t.path('cases'), '--verbose'], t.dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('PASS test_relu');
    expect(r.stdout).toContain('SKIP test_cast_FLOAT_to_FLOAT16: type FLOAT16 is outside the supported set');
    expect(r.stdout).toContain('2 pass, 0 fail, 1 skipped of 3 cases');
    // a wrong expected output: the relu case fed the gemm case's expected output
    cpSync(join(NODE, 'test_gemm_all_attributes', 'test_data_set_0', 'output_0.pb'), t.path('cases/test_relu/test_data_set_0/output_0.pb'));
    const bad = await cli(['conformance', t.path('cases')], t.dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL test_relu');
  });
});
