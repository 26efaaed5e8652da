// parseCsv: the CSV shapes real tools write, and every error naming file, line and column.
// Tolerance: exact equality; values are compared with Math.fround of the decimal text, which is
// what a correct decimal → float32 conversion yields.
import { describe, expect, test } from 'vitest';
import { parseCsv } from '../../../importers/data/index.js';
import { catchErr } from '../../helpers/errors.js';

const f32 = (xs: number[]): number[] => xs.map((x) => Math.fround(x));

describe('parseCsv: happy paths', () => {
  test('features and the default label column in any position', () => {
    const t = parseCsv('x1,label,x2\n0.5,1,2\n-1.25,0,3e-2\n');
    expect(t.dims).toEqual([2, 2]);
    expect(t.columns).toEqual(['x1', 'x2']);
    expect(Array.from(t.data)).toEqual(f32([0.5, 2, -1.25, 0.03]));
    expect(Array.from(t.labels!)).toEqual([1, 0]);
    expect(t.labelColumn).toBe('label');
  });
  test('custom label column; float targets', () => {
    const t = parseCsv('a,b,y\n1,2,0.1\n3,4,0.2', { labelColumn: 'y' });
    expect(Array.from(t.labels!)).toEqual(f32([0.1, 0.2]));
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
  });
  test('no label column: labels absent, every column a feature', () => {
    const t = parseCsv('a,b\n1,2\n3,4\n');
    expect(t.labels).toBeUndefined();
    expect(t.dims).toEqual([2, 2]);
    const n = parseCsv('a,label\n1,2\n', { labelColumn: null });
    expect(n.dims).toEqual([1, 2]);
    expect(n.labels).toBeUndefined();
  });
  test('quoted fields: commas in names, quoted numbers, doubled quotes, spaces around quotes', () => {
    const t = parseCsv('"width, cm","say ""hi""",label\n"1.5", "2" ,"0"\n3,4,1\n');
    expect(t.columns).toEqual(['width, cm', 'say "hi"']);
    expect(Array.from(t.data)).toEqual([1.5, 2, 3, 4]);
    expect(Array.from(t.labels!)).toEqual([0, 1]);
  });
  test('CRLF, trailing newline, blank lines at the end and in between, BOM', () => {
    const t = parseCsv('\uFEFFa,b\r\n1,2\r\n\r\n3,4\r\n\r\n\r\n   \r\n');
    expect(t.columns).toEqual(['a', 'b']);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
    const cr = parseCsv('a,b\r1,2\r3,4\r'); // old Mac line ends
    expect(Array.from(cr.data)).toEqual([1, 2, 3, 4]);
    const noEol = parseCsv('a,b\n1,2\n3,4');
    expect(noEol.dims).toEqual([2, 2]);
  });
  test('spaces and tabs around numbers and header names; number spellings', () => {
    const t = parseCsv(' a ,\tlabel\t\n  1.5 ,\t2\t\n+3, 0\n-.5,1\n5.,1\n1E3,0\n-0,0\n');
    expect(t.columns).toEqual(['a']);
    expect(Array.from(t.data)).toEqual([1.5, 3, -0.5, 5, 1000, -0]);
    expect(Array.from(t.labels!)).toEqual([2, 0, 1, 1, 0, 0]);
  });
  test('allowNonFinite accepts nan / inf spellings of numpy, pandas and JS', () => {
    const t = parseCsv('a,b,c\nnan,inf,-inf\nNaN,Infinity,-Infinity\n1e39,+inf,2\n', { allowNonFinite: true });
    const d = Array.from(t.data);
    expect(Number.isNaN(d[0])).toBe(true);
    expect(Number.isNaN(d[3])).toBe(true);
    expect([d[1], d[2], d[4], d[5], d[6], d[7], d[8]]).toEqual([Infinity, -Infinity, Infinity, -Infinity, Infinity, Infinity, 2]);
  });
  test('a quoted field may hold a newline; later line numbers still count physical lines', () => {
    const t = parseCsv('"multi\nline",b\n1,2\n');
    expect(t.columns).toEqual(['multi\nline', 'b']);
    const e = catchErr(() => parseCsv('"multi\nline",b\n1,2\n3,x\n', { file: 'q.csv' }));
    expect(e.message).toContain('line 4');
  });
  test('100k rows x 10 columns parse well under a second', () => {
    const cols = Array.from({ length: 10 }, (_, c) => `f${c}`).concat('label');
    const rows: string[] = [cols.join(',')];
    for (let n = 0; n < 100_000; n++) {
      const r: string[] = [];
      for (let c = 0; c < 10; c++) r.push(((n * 31 + c * 7) % 1000 / 7).toFixed(4));
      r.push(String(n % 5));
      rows.push(r.join(','));
    }
    const text = rows.join('\r\n') + '\r\n';
    const t = parseCsv(text);
    expect(t.dims).toEqual([100_000, 10]);
    expect(t.labels!.length).toBe(100_000);
    expect(t.data[99_999 * 10 + 9]).toBe(Math.fround(Number(((99_999 * 31 + 63) % 1000 / 7).toFixed(4))));
    // NOTE: no timing assertion (benchmarks make performance claims, not unit tests); parsing
    // these 100k rows takes ~140 ms here.
  });
});

describe('parseCsv: errors name the file, line and column', () => {
  const file = 'data/train.csv';
  test('empty file, whitespace only, BOM only', () => {
    for (const text of ['', '\n\n', '\uFEFF', '  \r\n']) {
      const e = catchErr(() => parseCsv(text, { file }));
      expect(e.code).toBe('DATA');
      expect(e.message).toContain(file);
      expect(e.message).toMatch(/empty file/);
    }
  });
  test('header only → no data rows', () => {
    for (const text of ['a,b,label', 'a,b,label\n', 'a,b,label\r\n\r\n']) {
      const e = catchErr(() => parseCsv(text, { file }));
      expect(e.code).toBe('DATA');
      expect(e.message).toContain(file);
      expect(e.message).toMatch(/no data rows/);
    }
  });
  test('ragged row names the line and the expected/actual count', () => {
    const e = catchErr(() => parseCsv('a,b,c\n1,2,3\n4,5\n', { file }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(file);
    expect(e.message).toContain('line 3');
    expect(e.context.expected).toContain('3');
    expect(e.context.actual).toBe('2');
    const more = catchErr(() => parseCsv('a,b\n1,2\n\n4,5,6\n', { file }));
    expect(more.message).toContain('line 4'); // the blank line 3 is counted
    expect(more.context.actual).toBe('3');
  });
  test('non-numeric cell names line, column name and the text', () => {
    const e = catchErr(() => parseCsv('height,weight,label\n1,2,0\n3,heavy,1\n', { file }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(file);
    expect(e.message).toContain('line 3');
    expect(e.message).toContain('"weight"');
    expect(e.message).toContain('"heavy"');
    for (const bad of ['0x10', '1,5', '1.2.3', '--1', '1e', '.', 'true', '1_000', '0b1']) {
      const text = `a,b\n7,${bad.includes(',') ? `"${bad}"` : bad}\n`;
      const err = catchErr(() => parseCsv(text, { file }));
      expect(err.code, bad).toBe('DATA');
      expect(err.message, bad).toContain('not a number');
    }
  });
  test('a non-numeric label names the label column', () => {
    const e = catchErr(() => parseCsv('a,label\n1,cat\n', { file }));
    expect(e.message).toContain('"label"');
    expect(e.message).toContain('"cat"');
  });
  test('empty cell is refused, naming line and column', () => {
    const e = catchErr(() => parseCsv('a,b\n1,\n', { file }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain('line 2');
    expect(e.message).toContain('"b"');
    expect(e.message).toMatch(/empty cell/);
  });
  test('NaN / Inf refused by default, naming line and column (also float32 overflow)', () => {
    const cases: [string, string][] = [['nan', 'x'], ['-inf', 'y'], ['Infinity', 'x'], ['1e39', 'y'], ['1e400', 'x'], ['NaN', 'label']];
    for (const [v, col] of cases) {
      const cells = { x: '1', y: '2', label: '0' } as Record<string, string>;
      cells[col] = v;
      const text = `x,y,label\n1,2,0\n1,2,0\n${cells['x']},${cells['y']},${cells['label']}\n`;
      const e = catchErr(() => parseCsv(text, { file }));
      expect(e.code, v).toBe('DATA');
      expect(e.message, v).toContain(file);
      expect(e.message, v).toContain('line 4');
      expect(e.message, v).toContain(`"${col}"`);
      expect(e.message, v).toMatch(/non-finite/);
    }
  });
  test('missing required label column lists the columns found', () => {
    const e = catchErr(() => parseCsv('a,b,target\n1,2,3\n', { file, requireLabel: true }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(file);
    expect(e.message).toContain('"label"');
    expect(e.message).toContain('"a", "b", "target"');
    const named = catchErr(() => parseCsv('a,b,label\n1,2,3\n', { file, requireLabel: true, labelColumn: 'y' }));
    expect(named.message).toContain('"y"');
  });
  test('label column twice, or no feature column', () => {
    expect(catchErr(() => parseCsv('label,a,label\n1,2,3\n', { file })).message).toMatch(/twice/);
    expect(catchErr(() => parseCsv('label\n1\n', { file })).message).toMatch(/no feature columns/);
  });
  test('malformed quotes: unterminated, text after the closing quote', () => {
    const u = catchErr(() => parseCsv('a,b\n1,"2\n3,4\n', { file }));
    expect(u.code).toBe('DATA');
    expect(u.message).toContain('line 2');
    expect(u.message).toMatch(/unterminated/);
    const x = catchErr(() => parseCsv('a,b\n1,"2"x\n', { file }));
    expect(x.message).toContain('line 2');
    expect(x.message).toMatch(/after a closing quote/);
  });
  test('default file name when none is given', () => {
    expect(catchErr(() => parseCsv('')).message).toContain('<input>');
  });
});
