// `edgenn train` in-process: every loss kind on CSV / .npy / JSON data, --log-json lines (parse,
// count = epochs * batches, fields), the loss falling, --lr 0 leaving the weights bit-identical,
// --out readable by `run`, validation / early stopping / health / checkpoint, TTY progress.
// Tolerances: exact for counts, step numbers and bit-identical weights; "loss falls" compares
// the mean loss of the first and last epoch (a learning signal, not a numeric reference —
// numerics are checked against PyTorch in test/runtime).
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeNpy } from '../../../importers/data/index.js';
import { parseJsonModel, jsonModelGraph } from '../../../importers/json-model.js';
import { compile } from '../../../runtime/model.js';
import { cli, csv, modelJson, tempDir, threeClassRows } from './support.js';

const t = tempDir('edgenn-train-');
const N = 30;
const { x, y } = threeClassRows(N);
const soft = y.map((c) => [0, 1, 2].map((k) => (k === c ? 0.8 : 0.1)));

interface Line { step: number; epoch: number; batch: number; loss: number; accuracy: number | null; lr: number; batchSize: number; health?: { gradNormTotal: number; layers: { param: string; gradNorm: number }[] } }
const lines = (name: string): Line[] => t.read(name).trim().split('\n').map((l) => JSON.parse(l) as Line);
const epochMean = (ls: Line[], e: number): number => {
  const sel = ls.filter((l) => l.epoch === e);
  return sel.reduce((s, l) => s + l.loss * l.batchSize, 0) / sel.reduce((s, l) => s + l.batchSize, 0);
};

beforeAll(() => {
  const hidden = [{ type: 'dense', out: 8 }, { type: 'tanh' }];
  t.write('clf.json', modelJson([2], [...hidden, { type: 'dense', out: 3 }]));
  t.write('logclf.json', modelJson([2], [...hidden, { type: 'dense', out: 3 }, { type: 'log_softmax' }]));
  t.write('reg.json', modelJson([2], [...hidden, { type: 'dense', out: 1 }]));
  t.write('sig.json', modelJson([2], [...hidden, { type: 'dense', out: 1 }, { type: 'sigmoid' }]));
  t.write('fixed.json', modelJson([2], [
    { type: 'dense', out: 2, weight: [0.5, -0.25, 0.125, 1], biasData: [0.1, -0.2] }, { type: 'relu' },
    { type: 'dense', out: 3, weight: [1, 2, 3, -1, -2, -3], biasData: [0, 0.3, 0.7] },
  ]));
  t.write('train.csv', csv(['x1', 'x2', 'label'], x.map((r, i) => [...r, y[i]!])));
  t.write('cls.csv', csv(['a', 'b', 'cls'], x.map((r, i) => [...r, y[i]!])));
  t.write('x.npy', encodeNpy([N, 2], Float32Array.from(x.flat())));
  t.write('y.npy', encodeNpy([N], Int32Array.from(y)));
  t.write('x.json', JSON.stringify({ dims: [N, 2], data: x.flat() }));
  t.write('probs.json', JSON.stringify(soft));
  t.write('sum.npy', encodeNpy([N, 1], Float32Array.from(x.map((r) => r[0]! + r[1]!))));
  t.write('pos.csv', csv(['t'], x.map((r) => [r[0]! > 0 ? 1 : 0])));
});
afterAll(() => t.cleanup());

const common = ['--epochs', '20', '--batch-size', '8', '--optimizer', 'adam', '--lr', '0.05'];
const STEPS = 20 * Math.ceil(N / 8);

describe('edgenn train: each loss kind learns, log-json is one line per step', () => {
  test.each([
    ['cross-entropy, CSV label column', ['clf.json', '--data', 'train.csv', '--loss', 'cross-entropy']],
    ['cross-entropy, --label-column + label smoothing + class weights', ['clf.json', '--data', 'cls.csv', '--label-column', 'cls', '--loss', 'cross-entropy', '--label-smoothing', '0.1', '--class-weights', '1,2,1']],
    ['cross-entropy, npy + npy labels [N]', ['clf.json', '--data', 'x.npy', '--labels', 'y.npy', '--loss', 'cross-entropy', '--reduction', 'sum']],
    ['cross-entropy, JSON + probabilities [N, C]', ['clf.json', '--data', 'x.json', '--labels', 'probs.json', '--loss', 'cross-entropy']],
    ['nll over log_softmax', ['logclf.json', '--data', 'x.npy', '--labels', 'y.npy', '--loss', 'nll', '--ignore-index', '-1']],
    ['mse, [N, 1] float targets', ['reg.json', '--data', 'x.json', '--labels', 'sum.npy', '--loss', 'mse']],
    ['bce-with-logits + pos-weight, CSV labels [N]', ['reg.json', '--data', 'x.npy', '--labels', 'pos.csv', '--loss', 'bce-with-logits', '--pos-weight', '2']],
    ['bce over a sigmoid', ['sig.json', '--data', 'x.npy', '--labels', 'pos.csv', '--loss', 'bce']],
    ['kl-div (batchmean) over log_softmax', ['logclf.json', '--data', 'x.json', '--labels', 'probs.json', '--loss', 'kl-div', '--reduction', 'batchmean']],
  ])('%s', async (name, args) => {
    const log = `${name.replace(/\W+/g, '_')}.jsonl`;
    const out = `${name.replace(/\W+/g, '_')}.out.json`;
    const r = await cli(['train', ...args, ...common, '--log-json', log, '--out', out], t.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ls = lines(log);
    expect(ls.length).toBe(STEPS);
    expect(ls.map((l) => l.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(ls[0]).toMatchObject({ step: 1, epoch: 0, batch: 0, lr: 0.05, batchSize: 8 });
    expect(ls[3]).toMatchObject({ epoch: 0, batch: 3, batchSize: 6 }); // 30 = 8 + 8 + 8 + 6
    expect(epochMean(ls, 19)).toBeLessThan(epochMean(ls, 0));
    const classIdx = args.includes('y.npy') || args.includes('train.csv') || args.includes('cls.csv');
    if (classIdx) for (const l of ls) expect(l.accuracy).toBeGreaterThanOrEqual(0);
    else for (const l of ls) expect(l.accuracy).toBeNull(); // NaN for float targets -> null in JSON
    expect(r.stdout).toContain('epoch 20/20');
    expect(r.stdout).toMatch(/trained 20 epoch\(s\), 80 steps/);
    expect(existsSync(t.path(out))).toBe(true);
    // no temp files left behind
    expect(readdirSync(t.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('edgenn train: --lr 0, --out then run, options', () => {
  test.each([['sgd'], ['adam'], ['adamw']])('--lr 0 (%s) leaves every weight bit-identical', async (opt) => {
    const r = await cli(['train', 'fixed.json', '--data', 'train.csv', '--loss', 'cross-entropy', '--optimizer', opt, '--lr', '0',
      '--epochs', '3', '--batch-size', '4', '--out', `lr0-${opt}.json`, '--log-json', `lr0-${opt}.jsonl`], t.dir);
    expect(r.code).toBe(0);
    const before = parseJsonModel(t.read('fixed.json'));
    const after = parseJsonModel(t.read(`lr0-${opt}.json`));
    const a = compile(jsonModelGraph(before), { maxBatch: 1 }), b = compile(jsonModelGraph(after), { maxBatch: 1 });
    for (const n of a.paramNames()) {
      const p = a.param(n), q = b.param(n);
      for (let i = 0; i < p.length; i++) expect(Object.is(p[i], q[i])).toBe(true);
    }
    // the loss is still evaluated: identical every epoch since nothing changes (same rows, fixed model)
    const ls = lines(`lr0-${opt}.jsonl`);
    expect(ls.length).toBe(3 * Math.ceil(N / 4));
    expect(epochMean(ls, 0)).toBeGreaterThan(0);
    expect(Math.abs(epochMean(ls, 2) - epochMean(ls, 0))).toBeLessThan(1e-6); // float32 sums in a shuffled order
  });

  test('--out model runs with `edgenn run` and gives the trained model\'s outputs', async () => {
    const r = await cli(['train', 'clf.json', '--data', 'train.csv', '--loss', 'cross-entropy', ...common, '--out', 'trained.json'], t.dir);
    expect(r.code).toBe(0);
    const run = await cli(['run', 'trained.json', 'x.npy'], t.dir);
    expect(run.code).toBe(0);
    const outs = (JSON.parse(run.stdout) as { outputs: Record<string, { dims: number[]; data: number[] }> }).outputs;
    const o = Object.values(outs)[0]!;
    expect(o.dims).toEqual([N, 3]);
    const m = compile(jsonModelGraph(parseJsonModel(t.read('trained.json'))), { maxBatch: N });
    const ref = m.run(Float32Array.from(x.flat()), N);
    // exact: the same float32 weights and the same kernels; run prints float32-shortest decimals
    expect(o.data.map((v) => Math.fround(v))).toEqual(Array.from(ref.subarray(0, N * 3)));
    // and the trained model classifies the training points well
    let right = 0;
    for (let i = 0; i < N; i++) {
      const row = o.data.slice(3 * i, 3 * i + 3);
      if (row.indexOf(Math.max(...row)) === y[i]) right++;
    }
    expect(right / N).toBeGreaterThan(0.8);
  });

  test('same seed -> same run; --no-shuffle differs from a shuffled run', async () => {
    const base = ['train', 'clf.json', '--data', 'train.csv', '--loss', 'cross-entropy', '--optimizer', 'sgd', '--lr', '0.1', '--momentum', '0.9', '--nesterov', '--epochs', '2', '--batch-size', '4'];
    await cli([...base, '--seed', '5', '--log-json', 's5a.jsonl'], t.dir);
    await cli([...base, '--seed', '5', '--log-json', 's5b.jsonl'], t.dir);
    await cli([...base, '--no-shuffle', '--log-json', 'ns.jsonl'], t.dir);
    expect(t.read('s5a.jsonl')).toBe(t.read('s5b.jsonl'));
    expect(t.read('ns.jsonl')).not.toBe(t.read('s5a.jsonl'));
  });

  test('validation split, early stopping, health every N steps, checkpoint, clipping', async () => {
    const r = await cli(['train', 'clf.json', '--data', 'train.csv', '--loss', 'cross-entropy', '--optimizer', 'adam', '--lr', '0.05',
      '--epochs', '200', '--batch-size', '8', '--validation-split', '0.2', '--early-stopping-patience', '3', '--health-every', '5',
      '--clip-grad-norm', '1', '--checkpoint', 'ck.bin', '--log-json', 'val.jsonl', '--weight-decay', '0.01', '--betas', '0.9,0.99', '--eps', '1e-7'], t.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/val_loss \d/);
    expect(r.stdout).toMatch(/val_acc \d/);
    expect(r.stdout).toMatch(/early stopping; best epoch \d+/);
    expect(r.stdout).toMatch(/health: grad norm/);
    expect(existsSync(t.path('ck.bin'))).toBe(true);
    const ls = lines('val.jsonl');
    const batches = Math.ceil((N - Math.round(N * 0.2)) / 8);
    expect(ls.length % batches).toBe(0);
    expect(ls.length).toBeLessThan(200 * batches);
    const withHealth = ls.filter((l) => l.health !== undefined);
    expect(withHealth.map((l) => l.step)).toEqual(ls.filter((l) => (l.step - 1) % 5 === 0).map((l) => l.step));
    expect(withHealth[0]!.health!.layers.map((l) => l.param)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  test('a loss that becomes NaN/Inf: exit 1, --out not written, the log is', async () => {
    const r = await cli(['train', 'reg.json', '--data', 'x.json', '--labels', 'sum.npy', '--loss', 'mse', '--optimizer', 'sgd', '--lr', '1e30',
      '--epochs', '50', '--batch-size', '8', '--out', 'nan-out.json', '--log-json', 'nan.jsonl'], t.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the loss became NaN\/Inf after step \d+; try a lower --lr/);
    expect(existsSync(t.path('nan-out.json'))).toBe(false);
    const ls = lines('nan.jsonl');
    expect(ls.length).toBeGreaterThan(0);
    expect(ls.length).toBeLessThan(50 * 4);
  });

  test('--out may replace the model it trained; outputs may not overwrite inputs', async () => {
    t.write('replace.json', t.read('clf.json'));
    const ok = await cli(['train', 'replace.json', '--data', 'train.csv', '--loss', 'cross-entropy', ...common, '--out', 'replace.json'], t.dir);
    expect(ok.code).toBe(0);
    expect(t.read('replace.json')).toContain('"weight"');
    const before = t.read('train.csv');
    const bad = await cli(['train', 'clf.json', '--data', 'train.csv', '--loss', 'cross-entropy', ...common, '--log-json', 'train.csv'], t.dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--log-json would overwrite the input file');
    expect(t.read('train.csv')).toBe(before);
  });

  test('on a TTY the progress line is redrawn with \\r; off a TTY one line per epoch', async () => {
    const args = ['train', 'clf.json', '--data', 'train.csv', '--loss', 'cross-entropy', ...common];
    const tty = await cli(args, t.dir, { isTTY: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/\r\x1b\[Kepoch 1\/20 {2}batch \d\/4 {2}loss/);
    const plain = await cli(args, t.dir);
    expect(plain.stdout).not.toContain('\r');
    expect(plain.stdout.split('\n').filter((l) => l.startsWith('epoch ')).length).toBe(20);
  });
});
