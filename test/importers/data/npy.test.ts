// decodeNpy / encodeNpy. The .npy bytes are built by hand here (preamble, header dict, payload
// written with a DataView), independently of encodeNpy, so a bug cannot cancel itself out.
// Tolerance: exact equality everywhere: decoding is a bit-exact copy (f8 → f32 is compared with
// Math.fround of the same float64, which is what a correct rounding produces).
import { describe, expect, test } from 'vitest';
import { decodeNpy, encodeNpy, type NpyArray } from '../../../importers/data/index.js';
import { catchErr } from '../../helpers/errors.js';

type Descr = string;

/** A .npy file: version major.0, the given header dict text (padded to 64 like numpy), payload. */
function npyRaw(header: string, payload: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  const hlen = total - pre;
  const h = header + ' '.repeat(hlen - header.length - 1) + '\n';
  const out = new Uint8Array(total + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, hlen, true);
  else dv.setUint32(8, hlen, true);
  out.set(new TextEncoder().encode(h), pre);
  out.set(payload, total);
  return out;
}

function dict(descr: Descr, shape: number[], fortran = false): string {
  const s = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${s}, }`;
}

/** Payload bytes of `values` in the given descr (byte order from its first char). */
function payload(descr: Descr, values: readonly number[]): Uint8Array {
  const le = descr[0] !== '>';
  const kind = descr.slice(1);
  const size = Number(kind.slice(1));
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    const o = i * size;
    switch (kind) {
      case 'f4': dv.setFloat32(o, v, le); break;
      case 'f8': dv.setFloat64(o, v, le); break;
      case 'i1': dv.setInt8(o, v); break;
      case 'u1': case 'b1': dv.setUint8(o, v); break;
      case 'i2': dv.setInt16(o, v, le); break;
      case 'u2': dv.setUint16(o, v, le); break;
      case 'i4': dv.setInt32(o, v, le); break;
      case 'u4': dv.setUint32(o, v, le); break;
      case 'i8': dv.setBigInt64(o, BigInt(v), le); break;
      default: throw new Error(`test helper: no ${kind}`);
    }
  });
  return out;
}

function npy(descr: Descr, shape: number[], values: readonly number[], opts: { fortran?: boolean; major?: number } = {}): Uint8Array {
  return npyRaw(dict(descr, shape, opts.fortran), payload(descr, values), opts.major ?? 1);
}


// Values chosen per dtype to hit the sign bit, the extremes and a byte-order-sensitive pattern.
const CASES: { descr: string; values: number[]; float: boolean }[] = [
  { descr: 'f4', values: [1.5, -2.25, 3.0e38, 1e-40, 0.1, -0], float: true },
  { descr: 'f8', values: [1.5, -2.25, 0.1, 1 / 3, -1e-30, 12345.678], float: true },
  { descr: 'i4', values: [0, -1, 2147483647, -2147483648, 258, -65536], float: false },
  { descr: 'i8', values: [0, -1, 2147483647, -2147483648, 258, -65536], float: false },
  { descr: 'i2', values: [0, -1, 32767, -32768, 258, -300], float: false },
  { descr: 'u2', values: [0, 1, 65535, 258, 32768, 7], float: false },
  { descr: 'u4', values: [0, 1, 2147483647, 258, 65536, 7], float: false },
];
const BYTE_CASES: { descr: string; values: number[] }[] = [
  { descr: 'i1', values: [0, -1, 127, -128, 5, -7] },
  { descr: 'u1', values: [0, 1, 255, 128, 5, 7] },
  { descr: 'b1', values: [0, 1, 1, 0, 1, 0] },
];

describe('decodeNpy: every dtype, both byte orders', () => {
  for (const c of CASES) {
    for (const order of ['<', '>']) {
      test(`${order}${c.descr} [2, 3]`, () => {
        const a = decodeNpy(npy(order + c.descr, [2, 3], c.values));
        expect(a.dtype).toBe(c.descr);
        expect(a.dims).toEqual([2, 3]);
        if (c.float) {
          expect(a.data).toBeInstanceOf(Float32Array);
          expect(Array.from(a.data)).toEqual(c.values.map((v) => Math.fround(v)));
        } else {
          expect(a.data).toBeInstanceOf(Int32Array);
          expect(Array.from(a.data)).toEqual(c.values);
        }
      });
    }
  }
  for (const c of BYTE_CASES) {
    for (const order of ['|', '<', '>']) {
      test(`${order}${c.descr} [6]`, () => {
        const a = decodeNpy(npy(order + c.descr, [6], c.values));
        expect(a.dtype).toBe(c.descr);
        expect(a.data).toBeInstanceOf(Int32Array);
        expect(Array.from(a.data)).toEqual(c.values);
      });
    }
  }
  test('b1: any nonzero byte is true', () => {
    const a = decodeNpy(npyRaw(dict('|b1', [3]), Uint8Array.from([0, 2, 255])));
    expect(Array.from(a.data)).toEqual([0, 1, 1]);
  });
  test('f8 beyond float32 range rounds to Infinity (checkFinite catches it later)', () => {
    const a = decodeNpy(npy('<f8', [2], [1e300, -1e300]));
    expect(Array.from(a.data)).toEqual([Infinity, -Infinity]);
  });
});

describe('decodeNpy: layout and header variants', () => {
  test('fortran_order True, 2-D: transposed into C order', () => {
    // C-order matrix [[0,1,2],[3,4,5]] stored column-major: 0 3 1 4 2 5
    const a = decodeNpy(npy('<f4', [2, 3], [0, 3, 1, 4, 2, 5], { fortran: true }));
    expect(a.dims).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5]);
  });
  test('fortran_order True, 3-D int: element (i,j,k) lands at C offset', () => {
    const D = [2, 3, 4];
    const fileOrder: number[] = [];
    // value = C offset; file order runs i fastest, then j, then k
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) fileOrder.push(i * 12 + j * 4 + k);
    const a = decodeNpy(npy('>i2', D, fileOrder, { fortran: true }));
    expect(a.dims).toEqual(D);
    expect(Array.from(a.data)).toEqual(Array.from({ length: 24 }, (_, n) => n));
  });
  test('fortran_order True, 1-D: unchanged', () => {
    const a = decodeNpy(npy('<i4', [4], [4, 3, 2, 1], { fortran: true }));
    expect(Array.from(a.data)).toEqual([4, 3, 2, 1]);
  });
  test('version 2.0 header (uint32 length)', () => {
    const bytes = npy('<f4', [3], [1, 2, 3], { major: 2 });
    expect(bytes[6]).toBe(2);
    const a = decodeNpy(bytes);
    expect(Array.from(a.data)).toEqual([1, 2, 3]);
  });
  test('version 3.0 header (UTF-8)', () => {
    const a = decodeNpy(npy('<i8', [2], [7, -7], { major: 3 }));
    expect(Array.from(a.data)).toEqual([7, -7]);
  });
  test('scalar shape () and zero-size shape (0, 3)', () => {
    const s = decodeNpy(npyRaw(`{'descr': '<f4', 'fortran_order': False, 'shape': (), }`, payload('<f4', [2.5])));
    expect(s.dims).toEqual([]);
    expect(Array.from(s.data)).toEqual([2.5]);
    const z = decodeNpy(npy('<f4', [0, 3], []));
    expect(z.dims).toEqual([0, 3]);
    expect(z.data.length).toBe(0);
  });
  test('header variants: key order, double quotes, Python 2 long ints, list shape, no trailing comma', () => {
    const h = `{"shape": [2L, 2L], "fortran_order": False, "descr": "<f4"}`;
    const a = decodeNpy(npyRaw(h, payload('<f4', [1, 2, 3, 4])));
    expect(a.dims).toEqual([2, 2]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4]);
  });
  test('bytes at a nonzero, unaligned byteOffset (a Node Buffer slice)', () => {
    const inner = npy('<f8', [2], [0.5, -0.25]);
    const big = new Uint8Array(inner.length + 3);
    big.set(inner, 3);
    const a = decodeNpy(big.subarray(3));
    expect(Array.from(a.data)).toEqual([0.5, -0.25]);
  });
  test('toFloat32: float dtypes return data itself, int dtypes a float copy', () => {
    const f = decodeNpy(npy('<f4', [2], [1, 2]));
    expect(f.toFloat32()).toBe(f.data);
    const i = decodeNpy(npy('<i4', [3], [-3, 0, 16777217]));
    const t = i.toFloat32();
    expect(t).toBeInstanceOf(Float32Array);
    // 2^24 + 1 is not a float32: rounds to 2^24 (documented NOTE)
    expect(Array.from(t)).toEqual([-3, 0, 16777216]);
  });
});

describe('decodeNpy: errors', () => {
  const good = npy('<f4', [2, 2], [1, 2, 3, 4]);

  test('bad magic → DECODE naming the file', () => {
    const b = good.slice();
    b[1] = 0x58;
    const e = catchErr(() => decodeNpy(b, { file: 'x.npy' }));
    expect(e.code).toBe('DECODE');
    expect(e.message).toContain('x.npy');
    expect(e.message).toMatch(/magic/);
    expect(catchErr(() => decodeNpy(new Uint8Array(0), { file: 'e.npy' })).code).toBe('DECODE');
  });
  test('unsupported version → DECODE', () => {
    const b = good.slice();
    b[6] = 4;
    const e = catchErr(() => decodeNpy(b, { file: 'v.npy' }));
    expect(e.code).toBe('DECODE');
    expect(e.message).toMatch(/version 4\.0/);
  });
  test('truncated preamble, header and data → DECODE naming the part', () => {
    for (const [cut, part] of [[8, 'preamble'], [40, 'header'], [good.length - 1, 'data']] as const) {
      const e = catchErr(() => decodeNpy(good.subarray(0, cut), { file: 't.npy' }));
      expect(e.code).toBe('DECODE');
      expect(e.message).toContain('t.npy');
      expect(e.message).toContain(part);
    }
  });
  test('extra bytes after the data → DECODE size mismatch', () => {
    const b = new Uint8Array(good.length + 4);
    b.set(good);
    const e = catchErr(() => decodeNpy(b, { file: 'm.npy' }));
    expect(e.code).toBe('DECODE');
    expect(e.message).toMatch(/size mismatch/);
    expect(e.message).toContain('16 data bytes');
  });
  test('header parse errors → DECODE', () => {
    const bad = [
      `['descr', '<f4']`, // not a dict
      `{'descr': '<f4', 'shape': (2, 2), }`, // no fortran_order
      `{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }`, // negative dim
      `{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2), }`, // not a bool
      `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), `, // unterminated
      `{'descr': '<f4 , 'fortran_order': False, 'shape': (2, 2), }`, // broken string
      `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), } extra`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (2; 2), }`,
    ];
    for (const h of bad) {
      const e = catchErr(() => decodeNpy(npyRaw(h, payload('<f4', [1, 2, 3, 4])), { file: 'h.npy' }));
      expect(e.code, h).toBe('DECODE');
      expect(e.message, h).toContain('h.npy');
      expect(e.message, h).toContain('header');
    }
  });
  test('non-ASCII byte in a v1 header → DECODE', () => {
    const b = good.slice();
    b[62] = 0xe9;
    expect(catchErr(() => decodeNpy(b)).code).toBe('DECODE');
  });
  test('unsupported dtype → DECODE naming it', () => {
    for (const d of ['<c8', '<f2', '<U5', '|O', '<b1x', '|i4', '=f4']) {
      const e = catchErr(() => decodeNpy(npyRaw(dict(d, [1]), new Uint8Array(8)), { file: 'd.npy' }));
      expect(e.code, d).toBe('DECODE');
      expect(e.message, d).toContain(`'${d}'`);
      expect(e.message, d).toContain('d.npy');
    }
    const e = catchErr(() => decodeNpy(npyRaw(`{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(4))));
    expect(e.code).toBe('DECODE');
    expect(e.message).toMatch(/structured/);
  });
  test('int64 outside int32 → DATA naming the index', () => {
    const e = catchErr(() => decodeNpy(npy('<i8', [2, 2], [1, 2, 3, 2 ** 31]), { file: 'big.npy' }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain('[1][1]');
    expect(e.message).toContain('2147483648');
    expect(e.message).toContain('big.npy');
    const n = catchErr(() => decodeNpy(npy('>i8', [3], [0, -(2 ** 31) - 1, 0])));
    expect(n.code).toBe('DATA');
    expect(n.message).toContain('[1]');
    expect(n.message).toContain('-2147483649');
    // Fortran order: file position 1 of a [2, 2] is element [1][0]
    const f = catchErr(() => decodeNpy(npy('<i8', [2, 2], [0, 2 ** 40, 0, 0], { fortran: true })));
    expect(f.message).toContain('[1][0]');
  });
  test('uint32 above int32 max → DATA naming the index', () => {
    const e = catchErr(() => decodeNpy(npy('<u4', [3], [0, 4294967295, 1]), { file: 'u.npy' }));
    expect(e.code).toBe('DATA');
    expect(e.message).toContain('[1]');
    expect(e.message).toContain('4294967295');
  });
  test('declared size above the limit → LIMIT before allocating (data absent)', () => {
    // 2^28 x 2^4 f4 = 16 GiB declared, the file holds no data at all
    const huge = npyRaw(dict('<f4', [2 ** 28, 16]), new Uint8Array(0));
    const e = catchErr(() => decodeNpy(huge, { file: 'huge.npy' }));
    expect(e.code).toBe('LIMIT');
    expect(e.message).toContain('huge.npy');
    // a configurable limit; the decoded size counts too (u1 → 4 bytes per element)
    const small = npy('|u1', [100], new Array<number>(100).fill(1));
    expect(catchErr(() => decodeNpy(small, { maxBytes: 399 })).code).toBe('LIMIT');
    expect(decodeNpy(small, { maxBytes: 400 }).data.length).toBe(100);
  });
});

describe('encodeNpy', () => {
  test('header is numpy\'s exact v1.0 layout, 64-byte aligned', () => {
    const b = encodeNpy([2, 3], Float32Array.from([0, 1, 2, 3, 4, 5]));
    const hlen = b[8]! | (b[9]! << 8);
    // np.save(np.arange(6, dtype='<f4').reshape(2, 3)) writes header length 118 (0x76), checked
    // against numpy 2.4: the dict, spaces, '\n', so that 10 + 118 = 128 is a multiple of 64
    expect(hlen).toBe(118);
    const header = new TextDecoder().decode(b.subarray(10, 10 + hlen));
    expect(header).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.padEnd(117, ' ') + '\n');
    expect(b.length).toBe(128 + 24);
    const dv = new DataView(b.buffer, b.byteOffset + 128);
    expect(Array.from({ length: 6 }, (_, i) => dv.getFloat32(i * 4, true))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(b[6]).toBe(1);
  });
  test('round trip encode → decode, f32 and i32, many shapes', () => {
    const shapes = [[], [0], [1], [7], [2, 3], [3, 1, 4], [2, 0, 5], [2, 2, 2, 2]];
    for (const dims of shapes) {
      const n = dims.reduce((a, b) => a * b, 1);
      const f = Float32Array.from({ length: n }, (_, i) => Math.fround((i - 3) * 0.37));
      const i32 = Int32Array.from({ length: n }, (_, i) => (i * 2654435761) | 0);
      const df: NpyArray = decodeNpy(encodeNpy(dims, f));
      expect(df.dtype).toBe('f4');
      expect(df.dims).toEqual(dims);
      expect(Array.from(df.data)).toEqual(Array.from(f));
      const di = decodeNpy(encodeNpy(dims, i32));
      expect(di.dtype).toBe('i4');
      expect(di.dims).toEqual(dims);
      expect(Array.from(di.data)).toEqual(Array.from(i32));
    }
  });
  test('special float values survive the round trip bit-exactly', () => {
    const f = Float32Array.from([NaN, Infinity, -Infinity, -0, 1.401298464324817e-45]);
    const d = decodeNpy(encodeNpy([5], f));
    expect(Array.from(d.data)).toEqual(Array.from(f));
    expect(Object.is(d.data[3], -0)).toBe(true);
  });
  test('dims that do not match the data → SHAPE; bad dims → ARG', () => {
    expect(catchErr(() => encodeNpy([2, 2], new Float32Array(3))).code).toBe('SHAPE');
    expect(catchErr(() => encodeNpy([-1], new Float32Array(0))).code).toBe('ARG');
    expect(catchErr(() => encodeNpy([1.5], new Float32Array(1))).code).toBe('ARG');
  });
});
