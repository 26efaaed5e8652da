// The agent serving and fine-tuning an ONNX model (model-loader.ts → importers/onnx/import.ts):
// the JSON test model exported to ONNX (Gemm/Relu/Gemm) is installed on first boot from
// model.path, serves the same outputs as the JSON model and fine-tunes. Outputs are compared
// exactly: import lowers Gemm(transB=1) back to the same dense kernel over the same float32 weights.
import * as fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent } from '../../../devices/agent/agent.js';
import { loadAgentConfig } from '../../../devices/agent/config.js';
import { jsonModelGraph, parseJsonModel } from '../../../importers/json-model.js';
import { exportOnnxBytes } from '../../../importers/onnx/export.js';
import { compile } from '../../../runtime/model.js';
import { FINE_TUNE, blobs, modelText, work, type Work } from './support.js';

let w: Work;
beforeEach(() => { w = work('edgenn-agent-onnx-'); });
afterEach(() => w.cleanup());

describe('ONNX models in the agent', () => {
  it('installs, serves (same outputs as the JSON model) and fine-tunes an ONNX model', async () => {
    const graph = jsonModelGraph(parseJsonModel(modelText()));
    fs.writeFileSync(w.p('model.onnx'), exportOnnxBytes(graph));
    const ref = compile(graph, { maxBatch: 1 });
    const a = await startAgent(loadAgentConfig(w.config({ model: { store: 'store', path: 'model.onnx', version: '1.0.0' }, fineTune: FINE_TUNE })));
    try {
      expect(a.model).toMatchObject({ id: 'model', version: '1.0.0' });
      const { x, y } = blobs(60, 41);
      for (const row of x.slice(0, 10)) {
        expect(Array.from(a.port.infer(row).subarray(0, 3))).toEqual(Array.from(ref.run(Float32Array.from(row), 1).subarray(0, 3)));
      }
      for (let i = 0; i < 60; i++) a.port.addSample(x[i]!, y[i]!);
      const out = await a.fineTune('command');
      expect(out.status).toBe('improved');
    } finally {
      await a.stop();
    }
  });
});
