// loadDataFile / loadLabelsFile / readNpyFile / writeNpyFile over real files in a temp dir:
// dispatch by extension, the common LoadedData shape, finite checks, limits, I/O errors.
// Tolerance: exact equality (small integers and binary fractions only).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  encodeNpy, loadDataFile, loadLabelsFile, readNpyFile, writeNpyFile,
} from '../../../importers/data/index.js';
import { catchErr } from '../../helpers/errors.js';


let dir = '';
const p = (name: string): string => join(dir, name);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgenn-data-'));
  writeFileSync(p('train.csv'), '\uFEFFx1,x2,label\r\n0.5,1,0\r\n2,-3,2\r\n\r\n');
  writeFileSync(p('y-target.csv'), 'x1,y\n1,0.25\n2,0.5\n');
  writeFileSync(p('nolabel.csv'), 'x1,x2\n1,2\n');
  writeFileSync(p('nan.csv'), 'x1,x2\n1,2\n3,nan\n');
  writeFileSync(p('upper.CSV'), 'a\n1\n');
  writeFileSync(p('x.npy'), encodeNpy([2, 2], Float32Array.from([1, 2, 3, 4])));
  writeFileSync(p('i.npy'), encodeNpy([3], Int32Array.from([0, 2, 1])));
  writeFileSync(p('nan.npy'), encodeNpy([2, 2], Float32Array.from([1, NaN, 3, 4])));
  writeFileSync(p('r3.npy'), encodeNpy([1, 1, 2], Float32Array.from([1, 2])));
  writeFileSync(p('x.json'), '{"dims": [2, 2], "data": [1, 2, 3, 4]}');
  writeFileSync(p('nested.json'), '[[1, 0], [0, 1], [0.5, 0.5]]');
  writeFileSync(p('nan.json'), '[1, "NaN"]');
  writeFileSync(p('data.txt'), '1,2');
  writeFileSync(p('noext'), '1,2');
  writeFileSync(p('labels.csv'), 'id,label\n7,1\n8,0\n9,2\n');
  writeFileSync(p('onecol.csv'), 'cls\n1\n0\n');
  writeFileSync(p('onehot.csv'), 'c0,c1\n1,0\n0,1\n');
  mkdirSync(p('adir.csv'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadDataFile', () => {
  test('CSV: features [N, F], labels [N], columns; BOM, CRLF and trailing blank line', () => {
    const d = loadDataFile(p('train.csv'));
    expect(d.file).toBe(p('train.csv'));
    expect(d.dims).toEqual([2, 2]);
    expect(Array.from(d.data)).toEqual([0.5, 1, 2, -3]);
    expect(Array.from(d.labels!)).toEqual([0, 2]);
    expect(d.columns).toEqual(['x1', 'x2']);
  });
  test('CSV: --label-column', () => {
    const d = loadDataFile(p('y-target.csv'), { labelColumn: 'y' });
    expect(Array.from(d.labels!)).toEqual([0.25, 0.5]);
    expect(d.dims).toEqual([2, 1]);
  });
  test('CSV: missing required label column → DATA naming file and columns', () => {
    const e = catchErr(() => loadDataFile(p('nolabel.csv'), { requireLabel: true }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(p('nolabel.csv'));
    expect(e.message).toContain('"x1", "x2"');
    expect(loadDataFile(p('nolabel.csv')).labels).toBeUndefined();
  });
  test('CSV: NaN refused with line and column, accepted with allowNonFinite', () => {
    const e = catchErr(() => loadDataFile(p('nan.csv')));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(p('nan.csv'));
    expect(e.message).toContain('line 3');
    expect(e.message).toContain('"x2"');
    expect(Number.isNaN(loadDataFile(p('nan.csv'), { allowNonFinite: true }).data[3])).toBe(true);
  });
  test('extension match is case-insensitive', () => {
    expect(loadDataFile(p('upper.CSV')).dims).toEqual([1, 1]);
  });
  test('.npy float and int (→ float32)', () => {
    const x = loadDataFile(p('x.npy'));
    expect(x.dims).toEqual([2, 2]);
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4]);
    expect(x.labels).toBeUndefined();
    const i = loadDataFile(p('i.npy'));
    expect(i.data).toBeInstanceOf(Float32Array);
    expect(Array.from(i.data)).toEqual([0, 2, 1]);
  });
  test('.npy with NaN: DATA naming file and element, unless allowNonFinite', () => {
    const e = catchErr(() => loadDataFile(p('nan.npy')));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(p('nan.npy'));
    expect(e.message).toContain('[0][1]');
    expect(Number.isNaN(loadDataFile(p('nan.npy'), { allowNonFinite: true }).data[1])).toBe(true);
  });
  test('.json both forms; NaN string only with allowNonFinite', () => {
    expect(loadDataFile(p('x.json')).dims).toEqual([2, 2]);
    const n = loadDataFile(p('nested.json'));
    expect(n.dims).toEqual([3, 2]);
    expect(Array.from(n.data)).toEqual([1, 0, 0, 1, 0.5, 0.5]);
    const e = catchErr(() => loadDataFile(p('nan.json')));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(p('nan.json'));
    expect(e.message).toContain('[1]');
    expect(Number.isNaN(loadDataFile(p('nan.json'), { allowNonFinite: true }).data[1])).toBe(true);
  });
  test('requireLabel on a .npy/.json → DATA pointing to a labels file', () => {
    const e = catchErr(() => loadDataFile(p('x.npy'), { requireLabel: true }));
    expect(e.code).toBe('DATA');
    expect(e.message).toMatch(/labels file/);
  });
  test('unknown extension → UNSUPPORTED listing .csv, .npy, .json', () => {
    for (const f of ['data.txt', 'noext']) {
      const e = catchErr(() => loadDataFile(p(f)));
      expect(e.code).toBe('UNSUPPORTED');
      expect(e.message).toContain(p(f));
      expect(e.message).toContain('.csv, .npy, .json');
    }
  });
  test('missing file and a directory → IO naming the file', () => {
    const e = catchErr(() => loadDataFile(p('missing.npy')));
    expect(e.code).toBe('IO');
    expect(e.message).toContain(p('missing.npy'));
    expect(e.message).toContain('ENOENT');
    const d = catchErr(() => loadDataFile(p('adir.csv')));
    expect(d.code).toBe('IO');
    expect(d.message).toContain('EISDIR');
  });
  test('file above maxBytes → LIMIT before reading', () => {
    for (const f of ['train.csv', 'x.npy', 'x.json']) {
      const e = catchErr(() => loadDataFile(p(f), { maxBytes: 10 }));
      expect(e.code).toBe('LIMIT');
      expect(e.message).toContain(p(f));
    }
  });
});

describe('loadLabelsFile', () => {
  test('CSV with a label column → [N] (other columns such as an id ignored)', () => {
    const l = loadLabelsFile(p('labels.csv'));
    expect(l.dims).toEqual([3]);
    expect(Array.from(l.data)).toEqual([1, 0, 2]);
  });
  test('CSV with a single column → [N]; several columns → [N, C]', () => {
    const one = loadLabelsFile(p('onecol.csv'));
    expect(one.dims).toEqual([2]);
    expect(Array.from(one.data)).toEqual([1, 0]);
    const hot = loadLabelsFile(p('onehot.csv'));
    expect(hot.dims).toEqual([2, 2]);
    expect(Array.from(hot.data)).toEqual([1, 0, 0, 1]);
  });
  test('CSV: a named label column that is absent, with several columns → DATA', () => {
    const e = catchErr(() => loadLabelsFile(p('onehot.csv'), { labelColumn: 'y', requireLabel: true }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain('"c0", "c1"');
  });
  test('.npy [N] int labels → float32; [N, C] floats; rank 3 → SHAPE', () => {
    const i = loadLabelsFile(p('i.npy'));
    expect(i.dims).toEqual([3]);
    expect(Array.from(i.data)).toEqual([0, 2, 1]);
    expect(loadLabelsFile(p('x.npy')).dims).toEqual([2, 2]);
    const e = catchErr(() => loadLabelsFile(p('r3.npy')));
    expect(e.code).toBe('SHAPE');
    expect(e.message).toContain(p('r3.npy'));
  });
  test('non-finite labels: DATA naming the file, unless allowNonFinite', () => {
    const e = catchErr(() => loadLabelsFile(p('nan.npy')));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(p('nan.npy'));
    expect(e.message).toContain('[0][1]');
    expect(loadLabelsFile(p('nan.npy'), { allowNonFinite: true }).dims).toEqual([2, 2]);
    expect(catchErr(() => loadLabelsFile(p('nan.csv'))).message).toContain('line 3');
  });
  test('.json [N, C]', () => {
    expect(loadLabelsFile(p('nested.json')).dims).toEqual([3, 2]);
  });
});

describe('readNpyFile / writeNpyFile', () => {
  test('write then read keeps dtype, dims and values', () => {
    writeNpyFile(p('out.npy'), [2, 3], Int32Array.from([1, -2, 3, -4, 5, -6]));
    const a = readNpyFile(p('out.npy'));
    expect(a.dtype).toBe('i4');
    expect(a.dims).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, -2, 3, -4, 5, -6]);
  });
  test('decode errors name the path', () => {
    writeFileSync(p('bad.npy'), 'not numpy at all');
    const e = catchErr(() => readNpyFile(p('bad.npy')));
    expect(e.code).toBe('DECODE');
    expect(e.message).toContain(p('bad.npy'));
  });
  test('write into a missing folder → IO naming the file', () => {
    const e = catchErr(() => writeNpyFile(p('no/such/dir/o.npy'), [1], new Float32Array(1)));
    expect(e.code).toBe('IO');
    expect(e.message).toContain('o.npy');
  });
});
