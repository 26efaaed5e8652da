// (the conv model of zero-gc-imported.test.ts, in its own process)
// Imported models keep the runtime's promise: after compile, training steps and inferences
// allocate nothing (the kernels added for ONNX ops included: broadcasting binary ops, where,
// matmul, transpose, reduce, concat, gather, conv2d, math). Same detector as
// test/runtime/graph/zero-gc.test.ts: GC events inside the timed window, and V8 new-space growth
// beyond 8 KiB, with the cleanest of three windows as the verdict (an optimizing compile may
// allocate in one window; the loop's own allocation shows in all of them). A control loop that
// allocates must be caught.
import { describe, it, expect } from 'vitest';
import { allocated, measureAllocation as measure } from '../../helpers/allocation.js';
import { join } from 'node:path';
import { REFERENCE_DIR } from '../../helpers/reference.js';
import { importOnnx } from '../../../importers/onnx/import.js';
import { compile } from '../../../runtime/model.js';


describe('an imported conv model allocates nothing in steady state', () => {
  it('conv model: 2 000 training steps and 20 000 inferences', async () => {
    const im = importOnnx(join(REFERENCE_DIR, 'conv1d_model_onnx.onnx'));
    const m = compile(im.graph, { maxBatch: 4, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 1e-3 } });
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), y = Int32Array.of(0, 1, 2, 1);
    const train = await measure(() => { for (let s = 0; s < 2000; s++) m.trainStep(x, y); });
    const inf = compile(im.graph, { maxBatch: 4 });
    const run = await measure(() => { for (let s = 0; s < 20000; s++) inf.run(x); });
    expect(allocated(train), `train ${JSON.stringify(train)}`).toBe(false);
    expect(allocated(run), `run ${JSON.stringify(run)}`).toBe(false);
  });

});
