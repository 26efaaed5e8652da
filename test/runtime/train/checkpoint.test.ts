// Checkpoints: atomic save, bit-exact reload (parameters, optimizer state, step count), resumed
// training identical to uninterrupted training, and refusal of corrupt, truncated or mismatched
// files without touching the model.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sequential, type LayerSpec } from '../../../runtime/graph/sequential.js';
import { compile, type Model } from '../../../runtime/model.js';
import { fit } from '../../../runtime/train/trainer.js';
import { saveCheckpoint, loadCheckpoint } from '../../../runtime/train/checkpoint.js';
import { spiral } from '../../helpers/datasets.js';

const MLP: LayerSpec[] = [{ type: 'dense', out: 16 }, { type: 'relu' }, { type: 'dense', out: 3 }];
const mk = (seed = 1): Model => compile(sequential([2], MLP, { seed }), { maxBatch: 16, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'adam', lr: 0.01 } });
const snapshot = (m: Model): number[][] => [...m.paramNames().map((p) => Array.from(m.param(p))), Array.from(m.optimizerState())];

describe('checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgenn-ckpt-'));
  const data = spiral(64, 2);

  it('reloads bit-exactly and resumes training identically', () => {
    const a = mk();
    fit(a, data, { epochs: 2, batchSize: 16, seed: 3, shuffle: false });
    const path = join(dir, 'a.ckpt');
    saveCheckpoint(path, a, { note: 'two epochs' });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const b = mk(99); // different initial weights
    const meta = loadCheckpoint(path, b);
    expect(meta).toEqual({ note: 'two epochs' });
    expect(snapshot(b)).toEqual(snapshot(a));
    expect(b.stepCount).toBe(a.stepCount);
    fit(a, data, { epochs: 1, batchSize: 16, shuffle: false });
    fit(b, data, { epochs: 1, batchSize: 16, shuffle: false });
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it('refuses a corrupt, truncated or foreign file and leaves the model untouched', () => {
    const a = mk();
    const path = join(dir, 'b.ckpt');
    saveCheckpoint(path, a);
    const good = readFileSync(path);
    const target = mk(7);
    const before = snapshot(target);
    const flipped = Buffer.from(good); flipped[good.length - 40]! ^= 0x10;
    writeFileSync(join(dir, 'flip.ckpt'), flipped);
    expect(() => loadCheckpoint(join(dir, 'flip.ckpt'), target)).toThrow(/CRC-32 mismatch/);
    writeFileSync(join(dir, 'trunc.ckpt'), good.subarray(0, good.length - 9));
    expect(() => loadCheckpoint(join(dir, 'trunc.ckpt'), target)).toThrow(/corrupt or truncated/);
    writeFileSync(join(dir, 'foreign.ckpt'), Buffer.from('hello world, not a checkpoint'));
    expect(() => loadCheckpoint(join(dir, 'foreign.ckpt'), target)).toThrow(/bad magic/);
    expect(() => loadCheckpoint(join(dir, 'missing.ckpt'), target)).toThrow(/cannot read checkpoint/);
    const other = compile(sequential([2], [{ type: 'dense', out: 8 }, { type: 'relu' }, { type: 'dense', out: 3 }]), { maxBatch: 4, loss: { kind: 'cross-entropy' } });
    expect(() => loadCheckpoint(path, other)).toThrow(/tensor 0\.weight: checkpoint parameter shape differs from the model; expected \[8, 2\], got \[16, 2\]/);
    expect(snapshot(target)).toEqual(before);
  });
});
