// parseJsonTensor: both forms, rectangularity, element types, non-finite strings.
// Tolerance: exact equality (values are Math.fround of the JSON numbers).
import { describe, expect, test } from 'vitest';
import { parseJsonTensor } from '../../../importers/data/index.js';
import { catchErr } from '../../helpers/errors.js';


describe('parseJsonTensor: happy paths', () => {
  test('{dims, data} flat form (extra keys ignored)', () => {
    const t = parseJsonTensor('{"dims": [2, 3], "data": [1, 2, 3, 4, 5, 0.1], "note": "x"}');
    expect(t.dims).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, Math.fround(0.1)]);
  });
  test('nested arrays: 1-D, 2-D, 3-D, scalar, empty', () => {
    expect(parseJsonTensor('[1, 2, 3]').dims).toEqual([3]);
    const m = parseJsonTensor('[[1, 2], [3, 4], [5, 6]]');
    expect(m.dims).toEqual([3, 2]);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const c = parseJsonTensor('[[[1], [2]], [[3], [4]]]');
    expect(c.dims).toEqual([2, 2, 1]);
    expect(Array.from(c.data)).toEqual([1, 2, 3, 4]);
    const s = parseJsonTensor('2.5');
    expect(s.dims).toEqual([]);
    expect(Array.from(s.data)).toEqual([2.5]);
    expect(parseJsonTensor('[]').dims).toEqual([0]);
    expect(parseJsonTensor('[[], []]').dims).toEqual([2, 0]);
    expect(parseJsonTensor('{"dims": [0, 4], "data": []}').dims).toEqual([0, 4]);
  });
  test('BOM is skipped', () => {
    expect(Array.from(parseJsonTensor('\uFEFF[1]').data)).toEqual([1]);
  });
  test('"NaN", "Infinity", "-Infinity" accepted with allowNonFinite', () => {
    const t = parseJsonTensor('[["NaN", "Infinity"], ["-Infinity", 1e39]]', { allowNonFinite: true });
    const d = Array.from(t.data);
    expect(Number.isNaN(d[0])).toBe(true);
    expect(d.slice(1)).toEqual([Infinity, -Infinity, Infinity]);
    const f = parseJsonTensor('{"dims": [1], "data": ["NaN"]}', { allowNonFinite: true });
    expect(Number.isNaN(f.data[0])).toBe(true);
  });
});

describe('parseJsonTensor: errors name the file and the path', () => {
  const file = 'in/x.json';
  test('ragged: a deeper array where a number belongs → path [3][1]', () => {
    const e = catchErr(() => parseJsonTensor('[[1, 2], [3, 4], [5, 6], [7, [8]]]', { file }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain(file);
    expect(e.message).toContain('[3][1]');
  });
  test('ragged: a shorter row → its path and both lengths', () => {
    const e = catchErr(() => parseJsonTensor('[[1, 2], [3]]', { file }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain('[1]');
    expect(e.message).toMatch(/length 1, expected 2/);
    const n = catchErr(() => parseJsonTensor('[[1, 2], 3]', { file }));
    expect(n.message).toContain('[1]');
    expect(n.message).toMatch(/ragged/);
  });
  test('null, strings, booleans, objects name their path', () => {
    for (const [text, path, what] of [
      ['[[1, null], [3, 4]]', '[0][1]', 'null'],
      ['[1, "2"]', '[1]', 'string'],
      ['[[1, 2], [3, true]]', '[1][1]', 'boolean'],
      ['[{"a": 1}]', '[0]', 'object'],
      ['{"dims": [2], "data": [1, "x"]}', 'data[1]', 'string'],
    ] as const) {
      const e = catchErr(() => parseJsonTensor(text, { file }));
      expect(e.code, text).toBe('DATA');
      expect(e.message, text).toContain(file);
      expect(e.message, text).toContain(`${path}:`);
      expect(e.message, text).toContain(what);
    }
  });
  test('non-finite refused by default: the strings, and numbers overflowing float32', () => {
    for (const [text, path] of [['[1, "NaN"]', '[1]'], ['[["Infinity"]]', '[0][0]'], ['[1e39]', '[0]'], ['[1, 1e400]', '[1]'], ['{"dims": [1], "data": ["-Infinity"]}', 'data[0]']] as const) {
      const e = catchErr(() => parseJsonTensor(text, { file }));
      expect(e.code, text).toBe('DATA');
      expect(e.message, text).toContain(`${path}:`);
      expect(e.message, text).toMatch(/allowNonFinite/);
    }
    // other spellings are never numbers, even when non-finite values are allowed
    const e = catchErr(() => parseJsonTensor('["nan"]', { file, allowNonFinite: true }));
    expect(e.message).toMatch(/expected a number/);
  });
  test('{dims, data}: size mismatch, bad dims, missing keys, nested data', () => {
    const m = catchErr(() => parseJsonTensor('{"dims": [2, 2], "data": [1, 2, 3]}', { file }));
    expect(m.code).toBe('DATA');
    expect(m.context.expected).toBe('4 elements');
    expect(m.context.actual).toBe('3');
    expect(catchErr(() => parseJsonTensor('{"dims": [2, -1], "data": []}', { file })).message).toMatch(/dims/);
    expect(catchErr(() => parseJsonTensor('{"dims": "2", "data": [1, 2]}', { file })).message).toMatch(/dims/);
    expect(catchErr(() => parseJsonTensor('{"shape": [2], "data": [1, 2]}', { file })).message).toContain('keys shape, data');
    expect(catchErr(() => parseJsonTensor('{"dims": [2], "data": [[1], [2]]}', { file })).message).toContain('data[0]:');
  });
  test('not JSON → DECODE naming the file', () => {
    const e = catchErr(() => parseJsonTensor('[1, 2,', { file }));
    expect(e.code).toBe('DECODE');
    expect(e.message).toContain(file);
  });
});
