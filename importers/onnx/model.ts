// The plain-TypeScript picture of an ONNX model: what decode.ts produces from bytes and what
// encode.ts turns back into bytes. It is NOT the protobuf message classes (those stay inside
// proto.ts) and it is NOT the runtime graph: no shapes are inferred and no op is resolved here;
// the graph importer builds the runtime graph on top of these values.
//
// Conventions:
//   - every int64 of the file that names a size, index or attribute is a JS number (checked to be a
//     safe integer on decode); int64/uint64 *tensor data* stays exact in BigInt64Array/BigUint64Array
//   - the default operator domain is always spelled 'ai.onnx' (the file may say '' or 'ai.onnx')
//   - tensor data is row-major, shape `dims`; a scalar has dims [] and one element

/** TensorProto.DataType numbers (onnx.proto, up to ONNX 1.20 / IR 13). */
export const OnnxDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
  UINT2: 25,
  INT2: 26,
} as const;
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

const DATA_TYPE_NAMES: readonly string[] = Object.keys(OnnxDataType);

/** 'FLOAT8E4M3FN' for 17; 'unknown data type 99' for a number outside the enum. */
export function dataTypeName(t: number): string {
  return Number.isInteger(t) && t >= 0 && t < DATA_TYPE_NAMES.length
    ? DATA_TYPE_NAMES[t]!
    : `unknown data type ${t}`;
}

export function isKnownDataType(t: number): t is OnnxDataType {
  return Number.isInteger(t) && t >= 0 && t < DATA_TYPE_NAMES.length;
}

/** Element storage of each data type edgenn decodes. FLOAT16/BFLOAT16 are widened to float32,
 *  INT4/INT2 unpacked to one int8 per element, UINT4/UINT2 to one uint8, BOOL to one uint8 (0/1). */
export type OnnxTensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface OnnxTensor {
  readonly name: string;
  readonly dataType: OnnxDataType;
  readonly dims: readonly number[];
  /** dims.reduce(*) elements, in the storage class listed in OnnxTensorData for dataType. */
  readonly data: OnnxTensorData;
  readonly docString?: string;
}

/** One attribute value. Subgraphs (If/Loop/Scan bodies) are decoded but not validated here:
 *  the importer refuses them with 'UNSUPPORTED' when a node that uses them is imported. */
export type OnnxAttribute =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: OnnxTensor }
  | { readonly type: 'graph'; readonly value: OnnxGraph }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'strings'; readonly value: readonly string[] }
  | { readonly type: 'tensors'; readonly value: readonly OnnxTensor[] }
  | { readonly type: 'graphs'; readonly value: readonly OnnxGraph[] };

export type OnnxAttributeType = OnnxAttribute['type'];

export interface OnnxNode {
  /** May be '' in the file; error messages then use `${opType}#${index}`. */
  readonly name: string;
  readonly opType: string;
  /** 'ai.onnx' for the default domain, else the file's domain ('com.microsoft', ...). */
  readonly domain: string;
  /** '' marks an optional input that is absent. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, OnnxAttribute>;
  readonly docString?: string;
}

/** One dimension: a size, a symbolic name ('batch'), or null when the file says neither. */
export type OnnxDim = number | string | null;

/** TypeProto without its denotations. */
export type OnnxType =
  | { readonly kind: 'tensor'; readonly elemType: OnnxDataType; readonly shape: readonly OnnxDim[] | null }
  | { readonly kind: 'sparse_tensor'; readonly elemType: OnnxDataType; readonly shape: readonly OnnxDim[] | null }
  | { readonly kind: 'sequence'; readonly elem: OnnxType | null }
  | { readonly kind: 'optional'; readonly elem: OnnxType | null }
  | { readonly kind: 'map'; readonly keyType: OnnxDataType; readonly value: OnnxType | null };

export interface OnnxValueInfo {
  readonly name: string;
  /** For a tensor value: its element type; UNDEFINED (0) when the value is not a tensor or untyped. */
  readonly elemType: OnnxDataType;
  /** For a tensor value: its shape (null = rank unknown); null when not a tensor. */
  readonly shape: readonly OnnxDim[] | null;
  /** The full type (sequence, optional, ...); null when the file gives no type. */
  readonly type: OnnxType | null;
  readonly docString?: string;
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, OnnxTensor>;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly valueInfo: readonly OnnxValueInfo[];
  readonly docString?: string;
}

export interface OnnxModel {
  readonly irVersion: number;
  /** domain → opset version; '' and 'ai.onnx' are both stored as 'ai.onnx'. */
  readonly opsetImports: ReadonlyMap<string, number>;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly graph: OnnxGraph;
  /** metadata_props (key → value). */
  readonly metadata: ReadonlyMap<string, string>;
}

export const DEFAULT_DOMAIN = 'ai.onnx';

/** '' and 'ai.onnx' both name the default operator set. */
export function normalizeDomain(domain: string): string {
  return domain === '' ? DEFAULT_DOMAIN : domain;
}

/** A readable label for a node in error messages. */
export function nodeLabel(node: OnnxNode, index: number): string {
  return node.name !== '' ? node.name : `${node.opType}#${index}`;
}

/** Elements of a tensor with these dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
