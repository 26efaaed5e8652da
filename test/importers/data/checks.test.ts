// checkClassLabels and checkFinite: accept good data, name the first bad row/element and value.
import { describe, expect, test } from 'vitest';
import { checkClassLabels, checkFinite, formatIndex } from '../../../importers/data/index.js';
import { catchErr } from '../../helpers/errors.js';


describe('checkClassLabels', () => {
  test('integers in [0, C) pass; ignoreIndex passes', () => {
    expect(() => checkClassLabels(Float32Array.from([0, 1, 2, 2, 0]), 3, 'l.csv')).not.toThrow();
    expect(() => checkClassLabels(Float32Array.from([0, -100, 1]), 2, 'l.csv', -100)).not.toThrow();
    expect(() => checkClassLabels(new Float32Array(0), 2, 'l.csv')).not.toThrow();
  });
  test('out of range, negative, fractional, NaN: names file, row and value', () => {
    for (const [labels, row, value] of [
      [[0, 1, 3], 2, '3'],
      [[0, -1, 1], 1, '-1'],
      [[0.5, 1], 0, '0.5'],
      [[1, 1, NaN], 2, 'NaN'],
      [[0, -100], 1, '-100'], // -100 without an ignoreIndex is just out of range
    ] as const) {
      const e = catchErr(() => checkClassLabels(Float32Array.from(labels), 3, 'data/labels.npy'));
      expect(e.code).toBe('DATA');
      expect(e.message).toContain('data/labels.npy');
      expect(e.message).toContain(`row ${row}`);
      expect(e.context.actual).toBe(value);
      expect(e.context.expected).toContain('[0, 3)');
    }
    const ig = catchErr(() => checkClassLabels(Float32Array.from([0, -1]), 3, 'f', -100));
    expect(ig.context.expected).toContain('-100');
  });
  test('bad numClasses → ARG', () => {
    expect(catchErr(() => checkClassLabels(new Float32Array(1), 0, 'f')).code).toBe('ARG');
    expect(catchErr(() => checkClassLabels(new Float32Array(1), 2.5, 'f')).code).toBe('ARG');
  });
});

describe('checkFinite', () => {
  test('finite data passes (including -0, subnormals, float32 max)', () => {
    expect(() => checkFinite(Float32Array.from([0, -0, 1e-45, 3.4028234663852886e38]), [2, 2], 'x.npy')).not.toThrow();
    expect(() => checkFinite(Float32Array.from([1]), [], 'x.npy')).not.toThrow();
  });
  test('NaN / ±Inf: names file, multi-index and flat index', () => {
    for (const [bad, at, idx] of [[NaN, 5, '[1][2]'], [Infinity, 0, '[0][0]'], [-Infinity, 3, '[1][0]']] as const) {
      const d = new Float32Array(6);
      d[at] = bad;
      const e = catchErr(() => checkFinite(d, [2, 3], 'in/x.npy'));
      expect(e.code).toBe('DATA');
      expect(e.message).toContain('in/x.npy');
      expect(e.message).toContain(idx);
      expect(e.message).toContain(`flat index ${at}`);
      expect(e.message).toContain(String(bad));
    }
  });
  test('dims that do not match the length → SHAPE', () => {
    expect(catchErr(() => checkFinite(new Float32Array(5), [2, 3], 'f')).code).toBe('SHAPE');
  });
  test('formatIndex', () => {
    expect(formatIndex(0, [])).toBe('[]');
    expect(formatIndex(23, [2, 3, 4])).toBe('[1][2][3]');
    expect(formatIndex(4, [5])).toBe('[4]');
  });
});
