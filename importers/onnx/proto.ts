// The one seam between edgenn and protobuf: the only file that imports `onnx-proto` (static
// protobufjs classes generated from ONNX 1.10 / IR 8) or `protobufjs`. It turns bytes into plain
// message objects and back, nothing more: no ONNX meaning (data types, shapes, limits) lives here,
// that is decode.ts / encode.ts, which see only the *Msg interfaces below.
//
// Why onnx-proto's static module and not protobufjs reflection: the static code contains no
// `new Function`/`eval`, so decoding works under `node --disallow-code-generation-from-strings`
// and in locked-down edge runtimes (proved by test/importers/onnx/eval-free.test.ts).
// onnx-proto depends on protobufjs 6; package.json overrides it to protobufjs 7 (same wire API).
//
// Before protobufjs sees any bytes, wire-check.ts walks them: protobufjs itself would silently skip
// unknown fields (everything added after IR 8), never check wire types, and recurse without a limit.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { EdgennError } from '../../runtime/errors.js';
import { wireCheck, type RootMessage, type WireCheckLimits, DEFAULT_WIRE_LIMITS } from './wire-check.js';

const { onnx } = onnxProto;

/** An int64 as protobufjs hands it over: a long.js Long, or a number when long.js is absent. */
export type Int64 = number | { readonly low: number; readonly high: number; readonly unsigned?: boolean };

export interface StringStringEntryMsg { key?: string; value?: string }
export interface OperatorSetIdMsg { domain?: string; version?: Int64 }
export interface DimensionMsg { dimValue?: Int64 | null; dimParam?: string | null; denotation?: string }
export interface TensorShapeMsg { dim?: DimensionMsg[] }
export interface TypeMsg {
  tensorType?: { elemType?: number; shape?: TensorShapeMsg | null } | null;
  sparseTensorType?: { elemType?: number; shape?: TensorShapeMsg | null } | null;
  sequenceType?: { elemType?: TypeMsg | null } | null;
  optionalType?: { elemType?: TypeMsg | null } | null;
  mapType?: { keyType?: number; valueType?: TypeMsg | null } | null;
  denotation?: string;
}
export interface ValueInfoMsg { name?: string; type?: TypeMsg | null; docString?: string }
export interface TensorMsg {
  dims?: Int64[];
  dataType?: number;
  segment?: { begin?: Int64; end?: Int64 } | null;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: Int64[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryMsg[];
  dataLocation?: number;
  doubleData?: number[];
  uint64Data?: Int64[];
}
export interface AttributeMsg {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorMsg | null;
  g?: GraphMsg | null;
  sparseTensor?: unknown;
  tp?: unknown;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorMsg[];
  graphs?: GraphMsg[];
  sparseTensors?: unknown[];
  typeProtos?: unknown[];
}
export interface NodeMsg {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeMsg[];
  docString?: string;
}
export interface GraphMsg {
  node?: NodeMsg[];
  name?: string;
  initializer?: TensorMsg[];
  sparseInitializer?: unknown[];
  docString?: string;
  input?: ValueInfoMsg[];
  output?: ValueInfoMsg[];
  valueInfo?: ValueInfoMsg[];
  quantizationAnnotation?: unknown[];
}
export interface ModelMsg {
  irVersion?: Int64;
  opsetImport?: OperatorSetIdMsg[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphMsg | null;
  metadataProps?: StringStringEntryMsg[];
  trainingInfo?: unknown[];
  functions?: unknown[];
}

/** What wire-check found that onnx-proto drops (metadata only; anything else was refused). */
export interface Decoded<T> { readonly message: T; readonly dropped: readonly string[] }

function decodeWith<T>(bytes: Uint8Array, root: RootMessage, file: string | undefined,
                       limits: WireCheckLimits, run: () => T): Decoded<T> {
  const { dropped } = wireCheck(bytes, root, file, limits);
  try {
    return { message: run(), dropped };
  } catch (e) {
    // wire-check accepted the bytes, so this is a protobufjs-level failure (e.g. a bad length that
    // only shows inside a packed field); report it as malformed input, never as a crash
    throw new EdgennError('DECODE', `protobuf decode of ${root} failed: ${(e as Error).message}`,
      file !== undefined ? { file } : {});
  }
}

export function decodeModelProto(bytes: Uint8Array, file?: string,
                                 limits: WireCheckLimits = DEFAULT_WIRE_LIMITS): Decoded<ModelMsg> {
  return decodeWith(bytes, 'ModelProto', file, limits,
    () => onnx.ModelProto.decode(bytes) as unknown as ModelMsg);
}

export function decodeTensorProto(bytes: Uint8Array, file?: string,
                                  limits: WireCheckLimits = DEFAULT_WIRE_LIMITS): Decoded<TensorMsg> {
  return decodeWith(bytes, 'TensorProto', file, limits,
    () => onnx.TensorProto.decode(bytes) as unknown as TensorMsg);
}

export function encodeModelProto(msg: ModelMsg): Uint8Array {
  return onnx.ModelProto.encode(msg as unknown as OnnxTypes.IModelProto).finish();
}

export function encodeTensorProto(msg: TensorMsg): Uint8Array {
  return onnx.TensorProto.encode(msg as unknown as OnnxTypes.ITensorProto).finish();
}

// --- int64 conversions (protobufjs gives Long objects; numbers only if long.js is missing) ---

/** Exact value of an int64/uint64 field. */
export function int64ToBigInt(v: Int64 | null | undefined, unsigned = false): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(v);
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? bits : BigInt.asIntN(64, bits);
}

/** The value as a JS number, or null when it is not a safe integer (|v| > 2^53 - 1). */
export function int64ToSafeNumber(v: Int64 | null | undefined): number | null {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  const hi = v.high | 0, lo = v.low >>> 0;
  // safe range: high in [-2^21, 2^21) with the usual two's complement combination
  if (hi >= 0x200000 || hi < -0x200000) return null;
  const n = hi * 4294967296 + lo;
  return Number.isSafeInteger(n) ? n : null;
}

/** A Long-like value protobufjs's writer accepts for int64 fields. */
export function bigIntToInt64(v: bigint): Int64 {
  const bits = BigInt.asUintN(64, v);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
}
