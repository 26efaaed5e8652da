// Tensor element storage for ONNX data types: raw little-endian bytes <-> typed arrays, the typed
// protobuf fields (int32_data carrying 8/16-bit values, ...) -> typed arrays, float16/bfloat16
// <-> float32, and 4-/2-bit packing. Pure functions over arrays; it knows nothing about protobuf
// messages or files (decode.ts / encode.ts do). It throws nothing: callers check sizes first.
//
// n = element count of the tensor throughout.
import { OnnxDataType, type OnnxTensorData } from './model.js';

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** How a data type is stored: in the file (raw bytes) and in JS (the typed array). */
export interface Storage {
  /** raw_data bytes for n elements */
  readonly rawBytes: (n: number) => number;
  /** bytes of the decoded JS array per element (used for memory limits) */
  readonly jsBytesPerElement: number;
}

const fixed = (w: number, js = w): Storage => ({ rawBytes: (n) => n * w, jsBytesPerElement: js });

/** Storage of each data type edgenn decodes; undefined for STRING, COMPLEX*, FLOAT8*, FLOAT4. */
export function storageOf(dataType: number): Storage | undefined {
  switch (dataType) {
    case OnnxDataType.FLOAT: case OnnxDataType.INT32: case OnnxDataType.UINT32: return fixed(4);
    case OnnxDataType.DOUBLE: case OnnxDataType.INT64: case OnnxDataType.UINT64: return fixed(8);
    case OnnxDataType.INT8: case OnnxDataType.UINT8: case OnnxDataType.BOOL: return fixed(1);
    case OnnxDataType.INT16: case OnnxDataType.UINT16: return fixed(2);
    case OnnxDataType.FLOAT16: case OnnxDataType.BFLOAT16: return fixed(2, 4);
    case OnnxDataType.INT4: case OnnxDataType.UINT4: return { rawBytes: (n) => Math.ceil(n / 2), jsBytesPerElement: 1 };
    case OnnxDataType.INT2: case OnnxDataType.UINT2: return { rawBytes: (n) => Math.ceil(n / 4), jsBytesPerElement: 1 };
    default: return undefined;
  }
}

/** A zero-filled array of the storage class for dataType (which must have a storageOf). */
export function allocData(dataType: number, n: number): OnnxTensorData {
  switch (dataType) {
    case OnnxDataType.FLOAT: case OnnxDataType.FLOAT16: case OnnxDataType.BFLOAT16: return new Float32Array(n);
    case OnnxDataType.DOUBLE: return new Float64Array(n);
    case OnnxDataType.INT32: return new Int32Array(n);
    case OnnxDataType.UINT32: return new Uint32Array(n);
    case OnnxDataType.INT64: return new BigInt64Array(n);
    case OnnxDataType.UINT64: return new BigUint64Array(n);
    case OnnxDataType.INT8: case OnnxDataType.INT4: case OnnxDataType.INT2: return new Int8Array(n);
    case OnnxDataType.UINT8: case OnnxDataType.BOOL: case OnnxDataType.UINT4: case OnnxDataType.UINT2: return new Uint8Array(n);
    case OnnxDataType.INT16: return new Int16Array(n);
    case OnnxDataType.UINT16: return new Uint16Array(n);
    default: throw new Error(`allocData: no storage for data type ${dataType}`); // unreachable: callers check storageOf
  }
}

/** True when `data` is the storage class allocData gives for dataType. */
export function dataMatchesType(dataType: number, data: OnnxTensorData): boolean {
  if (storageOf(dataType) === undefined) return false;
  return Object.getPrototypeOf(allocData(dataType, 0)) === Object.getPrototypeOf(data);
}

// --- float16 / bfloat16 ---

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits -> the exact float32 value (every half is representable in float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float32 value -> IEEE half bits, round to nearest even (NOTE: overflow becomes +-Inf, as in
 *  numpy's astype(float16)); NaN -> 0x7e00 (quiet NaN, sign kept). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return mant !== 0 ? sign | 0x7e00 : sign | 0x7c00;
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // subnormal half (or zero): shift the implicit-1 mantissa right, round half to even
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m; // a carry into bit 10 correctly yields the smallest normal
  }
  const rest = mant & 0x1fff;
  let m = mant >>> 13;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m++;
    if (m === 0x400) { m = 0; e++; if (e >= 31) return sign | 0x7c00; }
  }
  return sign | (e << 10) | m;
}

export function bfloat16ToFloat(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** float32 -> bfloat16 bits, round to nearest even; NaN stays a quiet NaN. */
export function floatToBfloat16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

// --- raw little-endian bytes ---

/** Decode n elements of raw_data (the caller checked raw.length === storage.rawBytes(n)). */
export function fromRawBytes(dataType: number, raw: Uint8Array, n: number): OnnxTensorData {
  const out = allocData(dataType, n);
  switch (dataType) {
    case OnnxDataType.FLOAT16: case OnnxDataType.BFLOAT16: {
      const conv = dataType === OnnxDataType.FLOAT16 ? halfToFloat : bfloat16ToFloat;
      const o = out as Float32Array;
      for (let i = 0; i < n; i++) o[i] = conv(raw[2 * i]! | (raw[2 * i + 1]! << 8));
      return out;
    }
    case OnnxDataType.INT4: case OnnxDataType.UINT4: case OnnxDataType.INT2: case OnnxDataType.UINT2:
      unpackBits(out as Int8Array | Uint8Array, raw, n, dataType === OnnxDataType.INT4 || dataType === OnnxDataType.UINT4 ? 4 : 2,
        dataType === OnnxDataType.INT4 || dataType === OnnxDataType.INT2);
      return out;
    case OnnxDataType.BOOL: {
      const o = out as Uint8Array;
      for (let i = 0; i < n; i++) o[i] = raw[i] !== 0 ? 1 : 0;
      return out;
    }
    default: {
      // fixed-width: copy into the array's own (aligned) buffer, then fix byte order if needed
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      bytes.set(raw.subarray(0, out.byteLength));
      if (!HOST_LITTLE_ENDIAN) swapBytes(bytes, out.BYTES_PER_ELEMENT);
      return out;
    }
  }
}

/** The raw_data bytes (little-endian) of a decoded array. */
export function toRawBytes(dataType: number, data: OnnxTensorData): Uint8Array {
  const n = data.length;
  switch (dataType) {
    case OnnxDataType.FLOAT16: case OnnxDataType.BFLOAT16: {
      const conv = dataType === OnnxDataType.FLOAT16 ? floatToHalf : floatToBfloat16;
      const out = new Uint8Array(2 * n);
      for (let i = 0; i < n; i++) {
        const h = conv((data as Float32Array)[i]!);
        out[2 * i] = h & 0xff;
        out[2 * i + 1] = h >> 8;
      }
      return out;
    }
    case OnnxDataType.INT4: case OnnxDataType.UINT4: case OnnxDataType.INT2: case OnnxDataType.UINT2:
      return packBits(data as Int8Array | Uint8Array,
        dataType === OnnxDataType.INT4 || dataType === OnnxDataType.UINT4 ? 4 : 2);
    default: {
      const out = new Uint8Array(data.byteLength);
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (!HOST_LITTLE_ENDIAN) swapBytes(out, data.BYTES_PER_ELEMENT);
      return out;
    }
  }
}

function swapBytes(bytes: Uint8Array, w: number): void {
  if (w === 1) return;
  for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
}

/** Sub-byte elements, first element in the least significant bits (onnx.proto's packing). */
function unpackBits(out: Int8Array | Uint8Array, packed: ArrayLike<number>, n: number, bits: 4 | 2, signed: boolean): void {
  const per = 8 / bits, mask = (1 << bits) - 1, signBit = 1 << (bits - 1);
  for (let i = 0; i < n; i++) {
    let v = (packed[Math.floor(i / per)]! >> ((i % per) * bits)) & mask;
    if (signed && (v & signBit) !== 0) v -= 1 << bits;
    out[i] = v;
  }
}

function packBits(data: Int8Array | Uint8Array, bits: 4 | 2): Uint8Array {
  const per = 8 / bits, mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(data.length / per));
  for (let i = 0; i < data.length; i++) out[Math.floor(i / per)]! |= (data[i]! & mask) << ((i % per) * bits);
  return out;
}

// --- typed protobuf fields ---

/** int32_data -> elements: one per int32 for 8/16-bit types and (b)float16 bit patterns, two per
 *  int32 for 4-bit types, four for 2-bit types. Returns null when the count does not fit n. */
export function fromInt32Data(dataType: number, vals: readonly number[], n: number): OnnxTensorData | null {
  if (dataType === OnnxDataType.INT4 || dataType === OnnxDataType.UINT4 ||
      dataType === OnnxDataType.INT2 || dataType === OnnxDataType.UINT2) {
    const bits = dataType === OnnxDataType.INT4 || dataType === OnnxDataType.UINT4 ? 4 : 2;
    if (vals.length !== Math.ceil(n / (8 / bits))) return null;
    const out = allocData(dataType, n) as Int8Array | Uint8Array;
    unpackBits(out, vals, n, bits, dataType === OnnxDataType.INT4 || dataType === OnnxDataType.INT2);
    return out;
  }
  if (vals.length !== n) return null;
  const out = allocData(dataType, n);
  if (dataType === OnnxDataType.FLOAT16 || dataType === OnnxDataType.BFLOAT16) {
    const conv = dataType === OnnxDataType.FLOAT16 ? halfToFloat : bfloat16ToFloat;
    for (let i = 0; i < n; i++) (out as Float32Array)[i] = conv(vals[i]! & 0xffff);
  } else if (dataType === OnnxDataType.BOOL) {
    for (let i = 0; i < n; i++) (out as Uint8Array)[i] = vals[i] !== 0 ? 1 : 0;
  } else {
    // INT32 and the 8/16-bit integers: the typed array's conversion wraps like a C cast
    (out as Int32Array).set(vals);
  }
  return out;
}
