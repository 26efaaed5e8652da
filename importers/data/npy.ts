// NumPy .npy files (format versions 1.0, 2.0, 3.0): decode from bytes, encode to bytes.
//
// What it is: pure functions over Uint8Array (load.ts does the file I/O). Decoding reads the
// preamble (magic, version, header length), parses the header, a Python dict literal such as
// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, checks the declared size against
// a limit *before* allocating, then converts the data to C order: float dtypes (f4, f8) become a
// Float32Array, integer and bool dtypes an Int32Array. Byte order '<' and '>' are both decoded.
// What it is not: no structured/record dtypes, no object arrays (pickles), no float16/complex,
// no memory mapping, no .npz archives. Encoding writes only little-endian f4 / i4 in C order.
//
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//   bytes 0-5 "\x93NUMPY", 6 major, 7 minor, then header length: uint16 LE (v1) or uint32 LE
//   (v2, v3); the header is ASCII (v1, v2) or UTF-8 (v3), space padded, ending in '\n'.
import { EdgennError } from '../../runtime/errors.js';

export type NpyFloatDtype = 'f4' | 'f8';
export type NpyIntDtype = 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'b1';
export type NpyDtype = NpyFloatDtype | NpyIntDtype;

export interface NpyFloatArray {
  readonly dims: number[];
  readonly dtype: NpyFloatDtype;
  /** C order; f8 values are rounded to float32 */
  readonly data: Float32Array;
  /** Returns `data` itself (no copy). */
  toFloat32(): Float32Array;
}
export interface NpyIntArray {
  readonly dims: number[];
  readonly dtype: NpyIntDtype;
  /** C order; bools are 0/1 */
  readonly data: Int32Array;
  /** A new Float32Array of the values. NOTE: integers beyond ±2^24 round to the nearest float32. */
  toFloat32(): Float32Array;
}
export type NpyArray = NpyFloatArray | NpyIntArray;

export interface NpyDecodeOptions {
  /** Name for error messages. Default '<input>'. */
  readonly file?: string;
  /**
   * Refuse ('LIMIT') arrays whose declared data bytes, or the bytes of the decoded array, exceed
   * this. Checked before anything is allocated. Default 1 GiB.
   */
  readonly maxBytes?: number;
}

export const NPY_DEFAULT_MAX_BYTES = 2 ** 30;
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SUPPORTED = "'<f4', '<f8', '<i1'/'|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '|b1' (and '>' big-endian)";

const ITEMSIZE: Record<NpyDtype, number> = { f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, b1: 1 };

// ---------------------------------------------------------------------------------------------
// Header: a tiny parser for the Python literals numpy writes (dict, tuple, list, str, int, bool).

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

class PyLiteralParser {
  private i = 0;
  constructor(private readonly s: string, private readonly fail: (msg: string) => never) {}

  parseTop(): PyValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail(`unexpected ${JSON.stringify(this.s.slice(this.i, this.i + 10))} after the header dict`);
    return v;
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i]!)) this.i++;
  }

  private value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) return this.fail('header ends early');
    if (c === '{') return this.dict();
    if (c === '(') return this.seq(')');
    if (c === '[') return this.seq(']');
    if (c === "'" || c === '"') return this.str();
    const m = /^(?:[+-]?\d+L?|True|False|None)/.exec(this.s.slice(this.i, this.i + 32));
    if (m === null) return this.fail(`cannot parse header at ${JSON.stringify(this.s.slice(this.i, this.i + 16))}`);
    this.i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    // Python 2 numpy wrote long ints as 3L
    return Number(m[0].endsWith('L') ? m[0].slice(0, -1) : m[0]);
  }

  private str(): string {
    const q = this.s[this.i++]!;
    let out = '';
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) return this.fail('unterminated string in header');
      if (c === q) return out;
      if (c === '\\') {
        const e = this.s[this.i++];
        if (e === undefined) return this.fail('unterminated string in header');
        out += e;
      } else {
        out += c;
      }
    }
  }

  private seq(close: string): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) { this.i++; return out; }
      out.push(this.value());
      this.ws();
      const c = this.s[this.i];
      if (c === ',') { this.i++; continue; }
      if (c === close) { this.i++; return out; }
      return this.fail(`expected ',' or '${close}' in header, got ${JSON.stringify(c ?? 'end')}`);
    }
  }

  private dict(): { [key: string]: PyValue } {
    this.i++;
    // a null-prototype object, so a key like '__proto__' is just a key
    const out = Object.create(null) as { [key: string]: PyValue };
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') { this.i++; return out; }
      const c0 = this.s[this.i];
      if (c0 !== "'" && c0 !== '"') return this.fail('header dict keys must be strings');
      const key = this.str();
      this.ws();
      if (this.s[this.i] !== ':') return this.fail(`expected ':' after header key '${key}'`);
      this.i++;
      out[key] = this.value();
      this.ws();
      const c = this.s[this.i];
      if (c === ',') { this.i++; continue; }
      if (c === '}') { this.i++; return out; }
      return this.fail(`expected ',' or '}' in header, got ${JSON.stringify(c ?? 'end')}`);
    }
  }
}

interface NpyHeader {
  readonly dtype: NpyDtype;
  readonly littleEndian: boolean;
  readonly fortran: boolean;
  readonly dims: number[];
}

function parseHeader(text: string, file: string): NpyHeader {
  const fail = (msg: string): never => { throw new EdgennError('DECODE', `npy header: ${msg}`, { file, actual: JSON.stringify(text.trim()) }); };
  const v = new PyLiteralParser(text, fail).parseTop();
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail('the header is not a dict');
  const descr = v['descr'];
  const fortran = v['fortran_order'];
  const shape = v['shape'];
  if (descr === undefined || fortran === undefined || shape === undefined) {
    return fail("the header dict needs the keys 'descr', 'fortran_order' and 'shape'");
  }
  if (typeof descr !== 'string') {
    throw new EdgennError('DECODE', `unsupported npy dtype ${JSON.stringify(descr)} (structured dtypes are not supported)`, { file, expected: SUPPORTED });
  }
  if (typeof fortran !== 'boolean') return fail("'fortran_order' must be True or False");
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    return fail("'shape' must be a tuple of non-negative integers");
  }
  const order = descr[0];
  const kind = descr.slice(1) as NpyDtype;
  if (descr.length !== 3 || !Object.prototype.hasOwnProperty.call(ITEMSIZE, kind) || (order !== '<' && order !== '>' && order !== '|') ||
      (order === '|' && ITEMSIZE[kind] !== 1)) {
    throw new EdgennError('DECODE', `unsupported npy dtype '${descr}'`, { file, expected: SUPPORTED });
  }
  return { dtype: kind, littleEndian: order !== '>', fortran, dims: shape as number[] };
}

// ---------------------------------------------------------------------------------------------

/** "[i][j][k]" of a flat index in file order (C or Fortran). */
function indexName(flat: number, dims: readonly number[], fortran: boolean): string {
  const idx = new Array<number>(dims.length).fill(0);
  let r = flat;
  if (fortran) {
    for (let k = 0; k < dims.length; k++) { idx[k] = r % dims[k]!; r = Math.floor(r / dims[k]!); }
  } else {
    for (let k = dims.length - 1; k >= 0; k--) { idx[k] = r % dims[k]!; r = Math.floor(r / dims[k]!); }
  }
  return idx.map((i) => `[${i}]`).join('');
}

/**
 * Reorder `src` from Fortran order (first index fastest) into C order (last index fastest).
 * Walks the source linearly and keeps the C offset with an odometer, so no div/mod per element.
 */
function fortranToC<T extends Float32Array | Int32Array>(src: T, dst: T, dims: readonly number[]): T {
  const R = dims.length;
  if (R < 2 || src.length === 0) { dst.set(src); return dst; }
  const cStride = new Array<number>(R);
  let st = 1;
  for (let k = R - 1; k >= 0; k--) { cStride[k] = st; st *= dims[k]!; }
  const idx = new Array<number>(R).fill(0);
  let off = 0;
  for (let f = 0; f < src.length; f++) {
    dst[off] = src[f]!;
    for (let k = 0; k < R; k++) {
      idx[k]!++;
      off += cStride[k]!;
      if (idx[k]! < dims[k]!) break;
      off -= dims[k]! * cStride[k]!;
      idx[k] = 0;
    }
  }
  return dst;
}

function decodeFloats(dv: DataView, dtype: NpyFloatDtype, le: boolean, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'f4') for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, le);
  else for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, le); // rounds to float32
  return out;
}

function decodeInts(dv: DataView, dtype: NpyIntDtype, le: boolean, count: number,
                    outOfRange: (i: number, value: string) => never): Int32Array {
  const out = new Int32Array(count);
  switch (dtype) {
    case 'i1': for (let i = 0; i < count; i++) out[i] = dv.getInt8(i); break;
    case 'u1': for (let i = 0; i < count; i++) out[i] = dv.getUint8(i); break;
    case 'b1': for (let i = 0; i < count; i++) out[i] = dv.getUint8(i) !== 0 ? 1 : 0; break;
    case 'i2': for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, le); break;
    case 'u2': for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, le); break;
    case 'i4': for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, le); break;
    case 'u4':
      for (let i = 0; i < count; i++) {
        const v = dv.getUint32(i * 4, le);
        if (v > 0x7fffffff) outOfRange(i, String(v));
        out[i] = v;
      }
      break;
    case 'i8':
      for (let i = 0; i < count; i++) {
        const lo = dv.getInt32(i * 8 + (le ? 0 : 4), le);
        const hi = dv.getInt32(i * 8 + (le ? 4 : 0), le);
        // in int32 range iff the high word is the sign extension of the low word
        if (hi !== (lo >> 31)) outOfRange(i, ((BigInt(hi) << 32n) + BigInt(lo >>> 0)).toString());
        out[i] = lo;
      }
      break;
    default: {
      const never: never = dtype;
      throw new Error(`unreachable dtype ${String(never)}`);
    }
  }
  return out;
}

/** Decode .npy bytes. Errors: 'DECODE' (malformed or unsupported), 'LIMIT' (too large), 'DATA' (int64/uint32 value outside int32). */
export function decodeNpy(bytes: Uint8Array, opts: NpyDecodeOptions = {}): NpyArray {
  const file = opts.file ?? '<input>';
  const maxBytes = opts.maxBytes ?? NPY_DEFAULT_MAX_BYTES;

  for (let k = 0; k < MAGIC.length; k++) {
    if (bytes[k] !== MAGIC[k]) {
      throw new EdgennError('DECODE', 'not a .npy file (bad magic)',
        { file, expected: 'bytes 93 4e 55 4d 50 59 ("\\x93NUMPY")', actual: hex(bytes.subarray(0, 6)) });
    }
  }
  if (bytes.length < 10) throw truncated(file, 'preamble', 10, bytes.length);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3) {
    throw new EdgennError('DECODE', `unsupported npy format version ${major}.${minor}`, { file, expected: '1.0, 2.0 or 3.0' });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else {
    if (bytes.length < 12) throw truncated(file, 'preamble', 12, bytes.length);
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  }
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) throw truncated(file, 'header', dataStart, bytes.length);

  const hb = bytes.subarray(headerStart, dataStart);
  if (major < 3) {
    for (let k = 0; k < hb.length; k++) {
      if (hb[k]! > 0x7f) throw new EdgennError('DECODE', `npy header: non-ASCII byte 0x${hb[k]!.toString(16)} in a version ${major}.${minor} header`, { file });
    }
  }
  const headerText = new TextDecoder('utf-8', { fatal: false }).decode(hb);
  const h = parseHeader(headerText, file);

  let count = 1;
  for (const d of h.dims) count *= d;
  const itemsize = ITEMSIZE[h.dtype];
  const declared = count * itemsize;
  const decoded = count * 4; // Float32Array or Int32Array
  if (Math.max(declared, decoded) > maxBytes) {
    throw new EdgennError('LIMIT', `npy array of shape (${h.dims.join(', ')}) and dtype ${h.dtype} is too large`,
      { file, expected: `at most ${maxBytes} bytes`, actual: `${Math.max(declared, decoded)} bytes` });
  }
  const have = bytes.length - dataStart;
  if (have < declared) throw truncated(file, 'data', declared, have);
  if (have > declared) {
    throw new EdgennError('DECODE', `npy size mismatch: ${have - declared} bytes after the data of shape (${h.dims.join(', ')}) ${h.dtype}`,
      { file, expected: `${declared} data bytes`, actual: `${have}` });
  }

  const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart, declared);
  const dims = h.dims.slice();
  if (h.dtype === 'f4' || h.dtype === 'f8') {
    let data = decodeFloats(dv, h.dtype, h.littleEndian, count);
    if (h.fortran) data = fortranToC(data, new Float32Array(count), dims);
    const arr: NpyFloatArray = { dims, dtype: h.dtype, data, toFloat32: () => data };
    return arr;
  }
  const outOfRange = (i: number, value: string): never => {
    throw new EdgennError('DATA', `npy ${h.dtype} value ${value} at index ${indexName(i, dims, h.fortran)} (flat ${i} in file order) does not fit in int32`, { file });
  };
  let data = decodeInts(dv, h.dtype, h.littleEndian, count, outOfRange);
  if (h.fortran) data = fortranToC(data, new Int32Array(count), dims);
  const arr: NpyIntArray = { dims, dtype: h.dtype, data, toFloat32: () => Float32Array.from(data) };
  return arr;
}

function truncated(file: string, part: string, need: number, have: number): EdgennError {
  return new EdgennError('DECODE', `truncated npy file (${part} incomplete)`, { file, expected: `${need} bytes`, actual: `${have}` });
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}

/**
 * Encode a C-order array as .npy (version 1.0; 2.0 only if the header exceeds 65535 bytes), dtype
 * '<f4' for Float32Array and '<i4' for Int32Array; the preamble is padded to 64 bytes like numpy's.
 */
export function encodeNpy(dims: readonly number[], data: Float32Array | Int32Array): Uint8Array {
  let count = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new EdgennError('ARG', 'encodeNpy: dims must be non-negative integers', { actual: `[${dims.join(', ')}]` });
    }
    count *= d;
  }
  if (count !== data.length) {
    throw new EdgennError('SHAPE', `encodeNpy: dims [${dims.join(', ')}] do not match the data length`,
      { expected: `${count} elements`, actual: `${data.length}` });
  }
  const isFloat = data instanceof Float32Array;
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  const dict = `{'descr': '${isFloat ? '<f4' : '<i4'}', 'fortran_order': False, 'shape': ${shape}, }`;
  let major = 1;
  let pre = 10;
  if (dict.length + 1 + pre > 0xffff) { major = 2; pre = 12; }
  const padded = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const headerLen = padded - pre;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';

  const out = new Uint8Array(padded + count * 4);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  for (let k = 0; k < header.length; k++) out[pre + k] = header.charCodeAt(k);
  if (isFloat) for (let i = 0; i < count; i++) dv.setFloat32(padded + i * 4, data[i]!, true);
  else for (let i = 0; i < count; i++) dv.setInt32(padded + i * 4, data[i]!, true);
  return out;
}
