// A tensor written as JSON: either `{"dims": [2, 3], "data": [1, 2, 3, 4, 5, 6]}` (flat, C order)
// or nested arrays `[[1, 2, 3], [4, 5, 6]]` (rectangular; a bare number is a scalar, dims []).
//
// What it is: a pure parser from a string to { dims, data: Float32Array }. Elements must be JSON
// numbers; JSON has no NaN/Infinity, so the strings "NaN", "Infinity" and "-Infinity" stand for
// them, accepted only with allowNonFinite. Errors name the element's path, like `[3][1]` or
// `data[5]`.
// What it is not: no dtypes (everything becomes float32), no labels, no streaming.
import { EdgennError } from '../../runtime/errors.js';

export interface JsonTensorOptions {
  /** Name for error messages. Default '<input>'. */
  readonly file?: string;
  /** Accept "NaN", "Infinity", "-Infinity" (and numbers that overflow float32). Default false. */
  readonly allowNonFinite?: boolean;
}

export interface JsonTensor {
  readonly dims: number[];
  /** C order, product(dims) elements */
  readonly data: Float32Array;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (length ${v.length})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function pathOf(prefix: string, idx: readonly number[], depth: number): string {
  let p = prefix;
  for (let k = 0; k < depth; k++) p += `[${idx[k]}]`;
  return p === '' ? '(the top level)' : p;
}

/** Parse a JSON tensor. Errors: 'DECODE' (not JSON), 'DATA' (shape or element problems). */
export function parseJsonTensor(text: string, opts: JsonTensorOptions = {}): JsonTensor {
  const file = opts.file ?? '<input>';
  const allowNonFinite = opts.allowNonFinite === true;
  let root: unknown;
  try {
    root = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
  } catch (e) {
    throw new EdgennError('DECODE', `not valid JSON: ${(e as Error).message}`, { file });
  }

  // The element check, shared by both forms; `where` builds the path only when needed.
  const element = (v: unknown, where: () => string): number => {
    if (typeof v === 'number') {
      // NOTE: JSON.parse turns 1e400 into Infinity, and 1e39 is finite only until rounded to float32.
      const f = Math.fround(v);
      if (!Number.isFinite(f) && !allowNonFinite) {
        throw new EdgennError('DATA', `${where()}: ${v} is not finite in float32 (allowNonFinite accepts it)`, { file });
      }
      return f;
    }
    if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(NON_FINITE, v)) {
      if (!allowNonFinite) {
        throw new EdgennError('DATA', `${where()}: non-finite value "${v}" is refused (allowNonFinite accepts it)`, { file });
      }
      return NON_FINITE[v]!;
    }
    throw new EdgennError('DATA', `${where()}: expected a number, got ${describe(v)}`, { file });
  };

  if (root !== null && typeof root === 'object' && !Array.isArray(root)) {
    const obj = root as Record<string, unknown>;
    const dims = obj['dims'];
    const data = obj['data'];
    if (dims === undefined || data === undefined) {
      throw new EdgennError('DATA', 'a JSON tensor object needs "dims" and "data"',
        { file, expected: '{"dims": [...], "data": [...]} or nested arrays', actual: `keys ${Object.keys(obj).join(', ') || '(none)'}` });
    }
    if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw new EdgennError('DATA', '"dims" must be an array of non-negative integers', { file, actual: JSON.stringify(dims) });
    }
    if (!Array.isArray(data)) {
      throw new EdgennError('DATA', '"data" must be a flat array of numbers', { file, actual: describe(data) });
    }
    let count = 1;
    for (const d of dims as number[]) count *= d;
    if (count !== data.length) {
      throw new EdgennError('DATA', `"data" length does not match "dims" [${(dims as number[]).join(', ')}]`,
        { file, expected: `${count} elements`, actual: `${data.length}` });
    }
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = element(data[i], () => `data[${i}]`);
    return { dims: (dims as number[]).slice(), data: out };
  }

  // Nested arrays: the first element at each depth fixes the shape; every other array must match.
  const dims: number[] = [];
  for (let v: unknown = root; Array.isArray(v); v = v[0]) {
    dims.push(v.length);
    if (v.length === 0) break;
  }
  const R = dims.length;
  const values: number[] = [];
  const idx: number[] = new Array<number>(R).fill(0);
  const walk = (v: unknown, depth: number): void => {
    if (depth === R) {
      values.push(element(v, () => pathOf('', idx, depth)));
      return;
    }
    if (!Array.isArray(v)) {
      throw new EdgennError('DATA', `${pathOf('', idx, depth)}: ragged nesting: expected an array of length ${dims[depth]}, got ${describe(v)}`, { file });
    }
    if (v.length !== dims[depth]) {
      throw new EdgennError('DATA', `${pathOf('', idx, depth)}: ragged nesting: array has length ${v.length}, expected ${dims[depth]} (like ${pathOf('', new Array<number>(depth).fill(0), depth)})`, { file });
    }
    for (let i = 0; i < v.length; i++) {
      idx[depth] = i;
      walk(v[i], depth + 1);
    }
  };
  walk(root, 0);
  return { dims, data: Float32Array.from(values) };
}
