// Every bad-input path of `edgenn train` / `edgenn run`: exit code 2, a one-line message on
// stderr that names the problem (file, flag, row, value, expected and actual shapes), and no
// output file written (nor a temp file left behind). Tolerance: exact (strings, exit codes).
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeNpy } from '../../../importers/data/index.js';
import { cli, csv, modelJson, tempDir, threeClassRows } from './support.js';

const t = tempDir('edgenn-bad-');
const { x, y } = threeClassRows(12);

beforeAll(() => {
  t.write('clf.json', modelJson([2], [{ type: 'dense', out: 4 }, { type: 'relu' }, { type: 'dense', out: 3 }]));
  t.write('logclf.json', modelJson([2], [{ type: 'dense', out: 3 }, { type: 'log_softmax' }]));
  t.write('reg.json', modelJson([2], [{ type: 'dense', out: 1 }]));
  t.write('badkey.json', modelJson([2], [{ type: 'dense', out: 3 }, { type: 'relu', slope: 1 }]));
  t.write('model.tflite', 'not really');
  t.write('broken.onnx', 'not really an ONNX file');
  t.write('train.csv', csv(['x1', 'x2', 'label'], x.map((r, i) => [...r, y[i]!])));
  t.write('three.csv', csv(['a', 'b', 'c', 'label'], x.map((r, i) => [...r, 1, y[i]!])));
  t.write('nan.csv', csv(['x1', 'x2', 'label'], x.map((r, i) => (i === 5 ? [r[0]!, NaN, y[i]!] : [...r, y[i]!]))));
  t.write('range.csv', csv(['x1', 'x2', 'label'], x.map((r, i) => [...r, i === 7 ? 3 : y[i]!])));
  t.write('frac.csv', csv(['x1', 'x2', 'label'], x.map((r, i) => [...r, i === 2 ? 0.5 : y[i]!])));
  t.write('nolabel.csv', csv(['x1', 'x2'], x));
  t.write('x.npy', encodeNpy([12, 2], Float32Array.from(x.flat())));
  t.write('inf.npy', encodeNpy([12, 2], Float32Array.from(x.flat().map((v, i) => (i === 9 ? Infinity : v)))));
  t.write('y11.npy', encodeNpy([11], Int32Array.from(y.slice(0, 11))));
  t.write('probs.json', JSON.stringify(y.map((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0)))));
  t.write('half.json', JSON.stringify(y.map((c) => [c === 0 ? 2 : 0])));
});
afterAll(() => t.cleanup());

const ok = ['--loss', 'cross-entropy', '--optimizer', 'sgd', '--lr', '0.1', '--epochs', '2', '--batch-size', '4'];
const trainArgs = (...a: string[]): string[] => ['train', 'clf.json', '--data', 'train.csv', ...ok, ...a];

async function bad(argv: string[], ...needles: (string | RegExp)[]): Promise<void> {
  const r = await cli([...argv, ...(argv[0] === 'train' ? ['--out', 'out.json', '--log-json', 'log.jsonl'] : [])], t.dir);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.startsWith(`edgenn ${argv[0]}: `)).toBe(true);
  expect(r.stderr.trimEnd().split('\n').length).toBe(1);
  for (const n of needles) {
    if (typeof n === 'string') expect(r.stderr).toContain(n);
    else expect(r.stderr).toMatch(n);
  }
  expect(existsSync(t.path('out.json'))).toBe(false);
  expect(existsSync(t.path('log.jsonl'))).toBe(false);
  expect(readdirSync(t.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
}

describe('edgenn train: bad input -> exit 2, message, nothing written', () => {
  test('the good command works (so each case below fails for its own reason)', async () => {
    const r = await cli(trainArgs('--out', 'good.json'), t.dir);
    expect(r.code).toBe(0);
    expect(existsSync(t.path('good.json'))).toBe(true);
  });
  test('missing model file', () => bad(['train', 'nope.json', '--data', 'train.csv', ...ok], 'nope.json', 'cannot read model', 'ENOENT'));
  test('missing data file', () => bad(trainArgs().map((a) => (a === 'train.csv' ? 'missing.csv' : a)), 'missing.csv', 'ENOENT'));
  test('missing labels file', () => bad(['train', 'clf.json', '--data', 'x.npy', '--labels', 'nolabels.npy', ...ok], 'nolabels.npy'));
  test('unsupported model format', () => bad(['train', 'model.tflite', '--data', 'train.csv', ...ok], 'model.tflite', 'unsupported model file extension ".tflite"', '.json', '.onnx'));
  test('malformed ONNX file', () => bad(['train', 'broken.onnx', '--data', 'train.csv', ...ok], 'broken.onnx'));
  test('invalid model file names the layer and key', () => bad(['train', 'badkey.json', '--data', 'train.csv', ...ok], 'badkey.json', 'layers[1]: unknown key "slope"'));
  test('data shape vs model input: names file, tensor, expected and actual', () =>
    bad(['train', 'clf.json', '--data', 'three.csv', ...ok], 'three.csv', 'tensor input', 'expected [N, 2]', 'got [12, 3]'));
  test('NaN in CSV data names line and column', () => bad(trainArgs().map((a) => (a === 'train.csv' ? 'nan.csv' : a)), 'nan.csv', /NaN|non-finite|not a finite/i));
  test('Inf in npy data names the element', () => bad(['train', 'clf.json', '--data', 'inf.npy', '--labels', 'y11.npy', ...ok], 'inf.npy', 'non-finite value Infinity at element [4][1]'));
  test('label out of range names the row and the value', () =>
    bad(trainArgs().map((a) => (a === 'train.csv' ? 'range.csv' : a)), 'range.csv', 'label at row 7 (0-based) is 3', 'expected an integer class index in [0, 3)'));
  test('fractional class label', () => bad(trainArgs().map((a) => (a === 'train.csv' ? 'frac.csv' : a)), 'label at row 2 (0-based) is 0.5'));
  test('labels rows differ from data rows', () =>
    bad(['train', 'clf.json', '--data', 'x.npy', '--labels', 'y11.npy', ...ok], 'y11.npy', 'different numbers of rows', 'expected 12 rows', 'got 11 rows'));
  test('CSV without the label column and no --labels', () => bad(['train', 'clf.json', '--data', 'nolabel.csv', ...ok], 'nolabel.csv', 'label'));
  test('npy data without --labels', () => bad(['train', 'clf.json', '--data', 'x.npy', ...ok], 'give the targets with --labels FILE'));
  test('[N, C] labels for nll', () =>
    bad(['train', 'logclf.json', '--data', 'x.npy', '--labels', 'probs.json', ...ok.map((a) => (a === 'cross-entropy' ? 'nll' : a))], 'probs.json', 'needs labels shaped [N]', 'got [12, 3]'));
  test('[N] labels with --targets probs', () => bad(trainArgs('--targets', 'probs'), 'needs labels shaped [N, C]'));
  test('bce targets outside [0, 1] name the row', () =>
    bad(['train', 'reg.json', '--data', 'x.npy', '--labels', 'half.json', ...ok.map((a) => (a === 'cross-entropy' ? 'bce' : a))], 'half.json', 'row 0 (0-based)', 'is 2'));
  test('float target shape vs model output', () =>
    bad(['train', 'reg.json', '--data', 'x.npy', '--labels', 'probs.json', ...ok.map((a) => (a === 'cross-entropy' ? 'mse' : a))], 'probs.json', 'expected [N, 1]', 'got [12, 3]'));
  test('class weights / pos weights of the wrong length', async () => {
    await bad(trainArgs('--class-weights', '1,2'), '--class-weights needs one weight per class', 'expected 3 values, got 2');
    await bad(['train', 'reg.json', '--data', 'x.npy', '--labels', 'half.json', ...ok.map((a) => (a === 'cross-entropy' ? 'bce-with-logits' : a)), '--pos-weight', '1,1'],
      '--pos-weight needs one value per output', 'expected 1 values, got 2');
  });
  test('unknown flag names it and lists the valid ones', () => bad(trainArgs('--learning-rate', '1'), 'unknown flag --learning-rate', '--lr', '--batch-size'));
  test('bad numbers', async () => {
    await bad(trainArgs().map((a) => (a === '0.1' ? 'fast' : a)), '--lr: bad number "fast"');
    await bad(trainArgs().map((a) => (a === '0.1' ? '-1' : a)), '--lr: bad number "-1"', 'a number >= 0');
    await bad(['train', 'clf.json', '--data', 'train.csv', ...ok.slice(0, 6), '--epochs', '1.5', '--batch-size', '4'], '--epochs: bad number "1.5"', 'an integer >= 1');
    await bad(trainArgs('--validation-split', '1'), '--validation-split: bad number "1"', 'a number >= 0 and < 1');
    await bad(trainArgs('--betas', '0.9'), '--betas does not apply to --optimizer sgd');
    await bad(trainArgs('--label-smoothing', '2'), '--label-smoothing: bad number "2"');
  });
  test('missing required flags', async () => {
    await bad(['train', 'clf.json', '--data', 'train.csv', '--optimizer', 'sgd', '--lr', '1', '--epochs', '1', '--batch-size', '1'], 'missing required flag --loss');
    await bad(['train', 'clf.json', '--loss', 'mse', '--optimizer', 'sgd', '--lr', '1', '--epochs', '1', '--batch-size', '1'], 'missing required flag --data');
    await bad(['train', '--data', 'train.csv', ...ok], 'missing argument <model>');
  });
  test('flags that do not fit the loss or optimizer, or each other', async () => {
    await bad(trainArgs('--pos-weight', '1'), '--pos-weight does not apply to --loss cross-entropy');
    await bad(trainArgs('--reduction', 'batchmean'), '--reduction batchmean applies to --loss kl-div only');
    await bad(trainArgs('--nesterov'), '--nesterov needs --momentum > 0');
    await bad(trainArgs('--no-shuffle', '--seed', '1'), '--no-shuffle and --seed exclude each other');
    await bad(trainArgs('--loss', 'mse'), '--loss is given more than once');
    await bad(trainArgs().map((a) => (a === 'cross-entropy' ? 'hinge' : a)), '--loss: unknown value "hinge"', 'one of cross-entropy, nll, mse, bce-with-logits, bce, kl-div');
    await bad(trainArgs().map((a) => (a === 'sgd' ? 'rmsprop' : a)), '--optimizer: unknown value "rmsprop"');
  });
  test('output folder missing / same file twice', async () => {
    await bad(trainArgs('--checkpoint', 'no/such/dir/ck.bin'), '--checkpoint: the folder does not exist');
    const r = await cli(trainArgs('--out', 'same.json', '--log-json', 'same.json'), t.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--log-json and --out name the same file');
    expect(existsSync(t.path('same.json'))).toBe(false);
  });
});

describe('edgenn run: bad input -> exit 2', () => {
  test('missing input file', () => bad(['run', 'clf.json', 'nothere.csv'], 'nothere.csv', 'ENOENT'));
  test('no input given', () => bad(['run', 'clf.json'], 'no data for input "input" [N, 2]'));
  test('too many inputs', () => bad(['run', 'clf.json', 'train.csv', 'x.npy'], 'too many input files'));
  test('unknown input name', () => bad(['run', 'clf.json', '--input', 'image=x.npy'], 'no input named "image"', 'one of input'));
  test('wrong shape', () => bad(['run', 'clf.json', 'three.csv'], 'three.csv', 'expected [N, 2]', 'got [12, 3]'));
  test('NaN input', () => bad(['run', 'clf.json', 'nan.csv'], 'nan.csv'));
  test('bad --max-batch', () => bad(['run', 'clf.json', 'x.npy', '--max-batch', '0'], '--max-batch: bad number "0"'));
});
