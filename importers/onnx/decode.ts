// ONNX bytes -> OnnxModel / OnnxTensor (model.ts): the hostile-input boundary of the importer.
// It is NOT the graph importer (no op is resolved, no shape inferred); validate.ts checks graph
// structure and decodeModel runs it unless told not to.
//
// What this file guarantees for any input bytes: it returns a model or throws EdgennError —
//   'DECODE'      malformed or truncated protobuf, inconsistent tensor (data size vs dims),
//                 a file that is not ONNX (named when recognisable), external path escaping the folder
//   'LIMIT'       a dim >= 2^31, a tensor or all tensors together above the configured memory
//                 limits (refused before allocating), an int64 attribute beyond 2^53
//   'UNSUPPORTED' what onnx-proto / edgenn cannot represent: IR version above MAX_IR_VERSION, data
//                 types (FLOAT8*, FLOAT4E2M1, STRING, COMPLEX*) and attribute kinds (sparse tensor,
//                 type proto), model-local functions, training info, sparse initializers, segments
//   'GRAPH'       (from validate.ts) dangling inputs, duplicate outputs, cycles
//   'IO'          an external data file that cannot be read
// Limits are checked on declared sizes before any typed array is allocated.
import { readFileSync, statSync, openSync, readSync, fstatSync, closeSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep, win32 } from 'node:path';
import { EdgennError, type ErrorContext } from '../../runtime/errors.js';
import {
  OnnxDataType, dataTypeName, isKnownDataType, normalizeDomain, elementCount,
  type OnnxAttribute, type OnnxDim, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor,
  type OnnxTensorData, type OnnxType, type OnnxValueInfo,
} from './model.js';
import {
  decodeModelProto, decodeTensorProto, int64ToBigInt, int64ToSafeNumber,
  type AttributeMsg, type GraphMsg, type Int64, type NodeMsg, type TensorMsg, type TensorShapeMsg,
  type TypeMsg, type ValueInfoMsg,
} from './proto.js';
import { DEFAULT_WIRE_LIMITS, peekIrVersion } from './wire-check.js';
import { storageOf, fromRawBytes, fromInt32Data, allocData } from './tensor-data.js';
import { validateGraph } from './validate.js';

/** Newest IR version decoded: wire-check.ts knows every field up to IR 13 (ONNX 1.20). */
export const MAX_IR_VERSION = 13;
export const DEFAULT_MAX_TENSOR_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_TOTAL_BYTES = 1024 * 1024 * 1024;
/** protobuf's own ceiling for one message */
const MAX_PROTO_BYTES = 2 ** 31 - 1;
/** dims at or above this are refused (no edge tensor has 2^31 elements along one axis) */
const MAX_DIM = 2 ** 31 - 1;

export interface DecodeOptions {
  /** Path of the file the bytes came from (named in errors; its folder resolves external data). */
  readonly file?: string;
  /** Folder for external data; default: the folder of `file`. */
  readonly baseDir?: string;
  /** Largest decoded tensor (bytes of its JS typed array); default 256 MiB. */
  readonly maxTensorBytes?: number;
  /** Largest sum over all decoded tensors; default 1 GiB. */
  readonly maxTotalBytes?: number;
  /** Run validateGraph (and return its topologically sorted model); default true. */
  readonly validate?: boolean;
  /** Most protobuf values (messages, strings, int64s) a file may hold; default 4,000,000. */
  readonly maxObjects?: number;
}

class Ctx {
  readonly file: string | undefined;
  readonly baseDir: string | undefined;
  readonly maxTensorBytes: number;
  readonly maxTotalBytes: number;
  totalBytes = 0;

  constructor(o: DecodeOptions) {
    this.file = o.file;
    this.baseDir = o.baseDir ?? (o.file !== undefined ? dirname(o.file) : undefined);
    this.maxTensorBytes = o.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;
    this.maxTotalBytes = o.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    if (!(this.maxTensorBytes >= 0) || !(this.maxTotalBytes >= 0)) {
      throw new EdgennError('ARG', 'maxTensorBytes and maxTotalBytes must be >= 0',
        { expected: 'numbers >= 0', actual: `${this.maxTensorBytes}, ${this.maxTotalBytes}` });
    }
  }

  at(extra: Omit<ErrorContext, 'file'> = {}): ErrorContext {
    return this.file !== undefined ? { file: this.file, ...extra } : extra;
  }
}

// ---------------------------------------------------------------------------------------------
// public entry points

export function decodeModel(bytes: Uint8Array, opts: DecodeOptions = {}): OnnxModel {
  const ctx = new Ctx(opts);
  checkBytes(bytes, ctx);
  let model: OnnxModel;
  try {
    model = decodeModelBytes(bytes, ctx, opts);
  } catch (e) {
    // a file that fails to decode may simply be another format: say which, when recognisable
    const other = e instanceof EdgennError && (e.code === 'DECODE' || e.code === 'UNSUPPORTED') ? sniffFormat(bytes) : null;
    if (other !== null) {
      throw new EdgennError('DECODE', `not an ONNX model: the bytes look like ${other}`,
        ctx.at({ expected: 'an ONNX ModelProto (.onnx)', actual: other }));
    }
    throw e;
  }
  return opts.validate === false ? model : validateGraph(model, ctx.file);
}

/** A standalone TensorProto (.pb, as in the ONNX backend-test layout). */
export function decodeTensor(bytes: Uint8Array, opts: DecodeOptions = {}): OnnxTensor {
  const ctx = new Ctx(opts);
  checkBytes(bytes, ctx);
  const { message } = decodeTensorProto(bytes, ctx.file, wireLimits(opts));
  return tensorFromMsg(message, ctx, message.name ?? '');
}

export function loadModelFile(path: string, opts: DecodeOptions = {}): OnnxModel {
  return decodeModel(readLimited(path), { ...opts, file: path });
}

export function loadTensorFile(path: string, opts: DecodeOptions = {}): OnnxTensor {
  return decodeTensor(readLimited(path), { ...opts, file: path });
}

// ---------------------------------------------------------------------------------------------

function readLimited(path: string): Uint8Array {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new EdgennError('IO', `cannot read: ${(e as Error).message}`, { file: path });
  }
  if (size > MAX_PROTO_BYTES) {
    throw new EdgennError('LIMIT', 'file larger than a protobuf message can be (2 GiB)',
      { file: path, expected: `<= ${MAX_PROTO_BYTES} bytes`, actual: `${size} bytes` });
  }
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EdgennError('IO', `cannot read: ${(e as Error).message}`, { file: path });
  }
}

function checkBytes(bytes: Uint8Array, ctx: Ctx): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new EdgennError('ARG', 'bytes must be a Uint8Array', ctx.at({ actual: typeof bytes }));
  }
  if (bytes.length > MAX_PROTO_BYTES) {
    throw new EdgennError('LIMIT', 'input larger than a protobuf message can be (2 GiB)',
      ctx.at({ expected: `<= ${MAX_PROTO_BYTES} bytes`, actual: `${bytes.length} bytes` }));
  }
}

function wireLimits(opts: DecodeOptions): typeof DEFAULT_WIRE_LIMITS {
  return opts.maxObjects !== undefined ? { ...DEFAULT_WIRE_LIMITS, maxObjects: opts.maxObjects } : DEFAULT_WIRE_LIMITS;
}

/** Magic numbers of formats people hand to an ONNX loader by mistake. */
function sniffFormat(b: Uint8Array): string | null {
  const ascii = (at: number, s: string): boolean => {
    if (b.length < at + s.length) return false;
    for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
    return true;
  };
  if (ascii(0, 'PK\x03\x04')) return 'a ZIP archive (a PyTorch .pt/.pth checkpoint?)';
  if (b[0] === 0x80 && b.length > 1 && b[1]! >= 2 && b[1]! <= 5) return 'a Python pickle (a legacy PyTorch checkpoint?)';
  if (ascii(0, '\x93NUMPY')) return 'a NumPy .npy array';
  if (ascii(4, 'ORTM')) return 'an ONNX Runtime .ort model (flatbuffer)';
  if (ascii(4, 'TFL3')) return 'a TensorFlow Lite model';
  if (ascii(0, 'GGUF')) return 'a GGUF file';
  if (ascii(0, '\x89HDF')) return 'an HDF5 file (a Keras .h5 model?)';
  let i = 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  if (b[i] === 0x7b || b[i] === 0x5b) return 'JSON text';
  if (ascii(i, 'ir_version') || ascii(i, '<')) return 'text (ONNX text format or markup), not binary protobuf';
  return null;
}

function decodeModelBytes(bytes: Uint8Array, ctx: Ctx, opts: DecodeOptions): OnnxModel {
  if (bytes.length === 0) throw new EdgennError('DECODE', 'empty input', ctx.at({ expected: 'an ONNX ModelProto' }));
  // newer IR versions first: their new fields would otherwise look like corruption to wire-check
  const peeked = peekIrVersion(bytes);
  if (peeked !== null && peeked > MAX_IR_VERSION) throw newerIr(peeked, ctx);
  const { message: m } = decodeModelProto(bytes, ctx.file, wireLimits(opts));

  const irVersion = int64ToSafeNumber(m.irVersion);
  if (irVersion === null || irVersion <= 0) {
    throw new EdgennError('DECODE', 'no ir_version: not an ONNX ModelProto',
      ctx.at({ expected: 'ir_version >= 1', actual: String(int64ToBigInt(m.irVersion)) }));
  }
  if (irVersion > MAX_IR_VERSION) throw newerIr(irVersion, ctx);
  if (m.graph === null || m.graph === undefined) {
    throw new EdgennError('DECODE', 'model has no graph', ctx.at({ expected: 'ModelProto.graph' }));
  }
  if ((m.functions?.length ?? 0) > 0) {
    throw new EdgennError('UNSUPPORTED', `model-local functions (${m.functions!.length}) are not supported`,
      ctx.at({ actual: 'ModelProto.functions' }));
  }
  if ((m.trainingInfo?.length ?? 0) > 0) {
    throw new EdgennError('UNSUPPORTED', 'ModelProto.training_info is not supported',
      ctx.at({ actual: 'ModelProto.training_info' }));
  }

  const opsetImports = new Map<string, number>();
  for (const o of m.opsetImport ?? []) {
    const domain = normalizeDomain(o.domain ?? '');
    const version = int64ToSafeNumber(o.version);
    if (version === null || version < 1) {
      throw new EdgennError('DECODE', `opset_import for domain '${domain}' has version ${String(int64ToBigInt(o.version))}`,
        ctx.at({ expected: 'a version >= 1' }));
    }
    if (opsetImports.has(domain)) {
      throw new EdgennError('DECODE', `opset_import lists domain '${domain}' twice`, ctx.at({}));
    }
    opsetImports.set(domain, version);
  }
  if (opsetImports.size === 0 && irVersion >= 3) {
    throw new EdgennError('DECODE', 'model has no opset_import', ctx.at({ expected: 'at least one opset_import (IR >= 3)' }));
  }

  const metadata = new Map<string, string>();
  for (const p of m.metadataProps ?? []) metadata.set(p.key ?? '', p.value ?? '');
  const modelVersion = int64ToSafeNumber(m.modelVersion);

  return {
    irVersion,
    opsetImports,
    producerName: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    domain: m.domain ?? '',
    modelVersion: modelVersion ?? 0,
    docString: m.docString ?? '',
    graph: graphFromMsg(m.graph, ctx),
    metadata,
  };
}

function newerIr(irVersion: number, ctx: Ctx): EdgennError {
  return new EdgennError('UNSUPPORTED', `IR version ${irVersion} is newer than edgenn's decoder knows`,
    ctx.at({ expected: `ir_version <= ${MAX_IR_VERSION}`, actual: String(irVersion) }));
}

function graphFromMsg(g: GraphMsg, ctx: Ctx): OnnxGraph {
  if ((g.sparseInitializer?.length ?? 0) > 0) {
    throw new EdgennError('UNSUPPORTED', 'sparse initializers are not supported', ctx.at({ actual: 'GraphProto.sparse_initializer' }));
  }
  const initializers = new Map<string, OnnxTensor>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (name === '') throw new EdgennError('DECODE', 'an initializer has no name', ctx.at({ expected: 'a non-empty name' }));
    if (initializers.has(name)) {
      throw new EdgennError('GRAPH', 'two initializers have the same name', ctx.at({ tensor: name }));
    }
    initializers.set(name, tensorFromMsg(t, ctx, name));
  }
  const nodes = (g.node ?? []).map((n, i) => nodeFromMsg(n, i, ctx));
  const graph: OnnxGraph = {
    name: g.name ?? '',
    nodes,
    initializers,
    inputs: (g.input ?? []).map((v) => valueInfoFromMsg(v, ctx, 'input')),
    outputs: (g.output ?? []).map((v) => valueInfoFromMsg(v, ctx, 'output')),
    valueInfo: (g.valueInfo ?? []).map((v) => valueInfoFromMsg(v, ctx, 'value_info')),
  };
  return withDoc(graph, g.docString);
}

function withDoc<T extends object>(x: T, doc: string | undefined): T {
  return doc !== undefined && doc !== '' ? { ...x, docString: doc } : x;
}

function nodeFromMsg(n: NodeMsg, index: number, ctx: Ctx): OnnxNode {
  const opType = n.opType ?? '';
  const label = n.name !== undefined && n.name !== '' ? n.name : `${opType || '?'}#${index}`;
  if (opType === '') throw new EdgennError('DECODE', 'node has no op_type', ctx.at({ node: label }));
  const attributes = new Map<string, OnnxAttribute>();
  for (const a of n.attribute ?? []) {
    const name = a.name ?? '';
    if (name === '') throw new EdgennError('DECODE', 'an attribute has no name', ctx.at({ node: label }));
    if (attributes.has(name)) throw new EdgennError('DECODE', `attribute '${name}' appears twice`, ctx.at({ node: label }));
    attributes.set(name, attributeFromMsg(a, name, label, ctx));
  }
  const node: OnnxNode = {
    name: n.name ?? '',
    opType,
    domain: normalizeDomain(n.domain ?? ''),
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attributes,
  };
  return withDoc(node, n.docString);
}

const ATTRIBUTE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'INT', 3: 'STRING', 4: 'TENSOR', 5: 'GRAPH', 6: 'FLOATS', 7: 'INTS',
  8: 'STRINGS', 9: 'TENSORS', 10: 'GRAPHS', 11: 'SPARSE_TENSOR', 12: 'SPARSE_TENSORS', 13: 'TYPE_PROTO',
  14: 'TYPE_PROTOS',
};

const utf8 = new TextDecoder('utf-8');

function attributeFromMsg(a: AttributeMsg, name: string, node: string, ctx: Ctx): OnnxAttribute {
  if (a.refAttrName !== undefined && a.refAttrName !== '') {
    throw new EdgennError('UNSUPPORTED', `attribute '${name}' refers to a function attribute ('${a.refAttrName}')`,
      ctx.at({ node, actual: 'ref_attr_name' }));
  }
  const int = (v: Int64 | undefined): number => {
    const x = int64ToSafeNumber(v);
    if (x === null) {
      throw new EdgennError('LIMIT', `int attribute '${name}' is outside the safe integer range`,
        ctx.at({ node, expected: `|value| <= ${Number.MAX_SAFE_INTEGER}`, actual: String(int64ToBigInt(v)) }));
    }
    return x;
  };
  const tensor = (t: TensorMsg | null | undefined, i?: number): OnnxTensor => {
    const label = t?.name !== undefined && t.name !== '' ? t.name : `${node}.${name}${i !== undefined ? `[${i}]` : ''}`;
    if (t === null || t === undefined) throw new EdgennError('DECODE', `tensor attribute '${name}' has no tensor`, ctx.at({ node }));
    return tensorFromMsg(t, ctx, label);
  };
  const graph = (g: GraphMsg | null | undefined): OnnxGraph => {
    if (g === null || g === undefined) throw new EdgennError('DECODE', `graph attribute '${name}' has no graph`, ctx.at({ node }));
    return graphFromMsg(g, ctx);
  };
  const type = a.type ?? 0;
  switch (type) {
    case 1: return { type: 'float', value: a.f ?? 0 };
    case 2: return { type: 'int', value: int(a.i) };
    case 3: return { type: 'string', value: utf8.decode(a.s ?? new Uint8Array(0)) };
    case 4: return { type: 'tensor', value: tensor(a.t) };
    case 5: return { type: 'graph', value: graph(a.g) };
    case 6: return { type: 'floats', value: [...(a.floats ?? [])] };
    case 7: return { type: 'ints', value: (a.ints ?? []).map(int) };
    case 8: return { type: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case 9: return { type: 'tensors', value: (a.tensors ?? []).map((t, i) => tensor(t, i)) };
    case 10: return { type: 'graphs', value: (a.graphs ?? []).map(graph) };
    case 0:
      throw new EdgennError('DECODE', `attribute '${name}' has no type (IR version 1 files are not supported)`,
        ctx.at({ node, expected: 'AttributeProto.type set' }));
    default: {
      const known = ATTRIBUTE_TYPE_NAMES[type];
      throw new EdgennError('UNSUPPORTED',
        known !== undefined ? `attribute '${name}' of type ${known} is not supported` : `attribute '${name}' has unknown type ${type}`,
        ctx.at({ node, actual: known ?? `attribute type ${type}` }));
    }
  }
}

function valueInfoFromMsg(v: ValueInfoMsg, ctx: Ctx, where: string): OnnxValueInfo {
  const name = v.name ?? '';
  if (name === '') throw new EdgennError('DECODE', `a graph ${where} has no name`, ctx.at({ expected: 'a non-empty name' }));
  const type = v.type === null || v.type === undefined ? null : typeFromMsg(v.type, ctx, name);
  const info: OnnxValueInfo = {
    name,
    elemType: type !== null && type.kind === 'tensor' ? type.elemType : OnnxDataType.UNDEFINED,
    shape: type !== null && type.kind === 'tensor' ? type.shape : null,
    type,
  };
  return withDoc(info, v.docString);
}

function elemTypeOf(t: number | undefined, ctx: Ctx, value: string): OnnxDataType {
  const x = t ?? 0;
  if (!isKnownDataType(x)) {
    throw new EdgennError('UNSUPPORTED', `value has ${dataTypeName(x)}`, ctx.at({ tensor: value, actual: dataTypeName(x) }));
  }
  return x;
}

function typeFromMsg(t: TypeMsg, ctx: Ctx, value: string): OnnxType | null {
  if (t.tensorType) {
    return { kind: 'tensor', elemType: elemTypeOf(t.tensorType.elemType, ctx, value), shape: shapeFromMsg(t.tensorType.shape, ctx, value) };
  }
  if (t.sparseTensorType) {
    return {
      kind: 'sparse_tensor', elemType: elemTypeOf(t.sparseTensorType.elemType, ctx, value),
      shape: shapeFromMsg(t.sparseTensorType.shape, ctx, value),
    };
  }
  const sub = (x: TypeMsg | null | undefined): OnnxType | null => (x ? typeFromMsg(x, ctx, value) : null);
  if (t.sequenceType) return { kind: 'sequence', elem: sub(t.sequenceType.elemType) };
  if (t.optionalType) return { kind: 'optional', elem: sub(t.optionalType.elemType) };
  if (t.mapType) return { kind: 'map', keyType: elemTypeOf(t.mapType.keyType, ctx, value), value: sub(t.mapType.valueType) };
  return null;
}

function shapeFromMsg(s: TensorShapeMsg | null | undefined, ctx: Ctx, value: string): OnnxDim[] | null {
  if (s === null || s === undefined) return null;
  return (s.dim ?? []).map((d): OnnxDim => {
    if (d.dimValue !== null && d.dimValue !== undefined) {
      const n = int64ToSafeNumber(d.dimValue);
      // NOTE: some exporters write -1 for "unknown"; onnx.proto says dim_value >= 0, we read it as unknown
      if (n !== null && n < 0) return null;
      if (n === null || n > MAX_DIM) {
        throw new EdgennError('LIMIT', 'a declared dimension is 2^31 or more',
          ctx.at({ tensor: value, expected: `dims <= ${MAX_DIM}`, actual: String(int64ToBigInt(d.dimValue)) }));
      }
      return n;
    }
    if (d.dimParam !== null && d.dimParam !== undefined && d.dimParam !== '') return d.dimParam;
    return null;
  });
}

// ---------------------------------------------------------------------------------------------
// tensors

const TYPED_FIELDS = ['floatData', 'int32Data', 'stringData', 'int64Data', 'doubleData', 'uint64Data'] as const;
type TypedField = (typeof TYPED_FIELDS)[number];
const FIELD_NAMES: Readonly<Record<TypedField, string>> = {
  floatData: 'float_data', int32Data: 'int32_data', stringData: 'string_data', int64Data: 'int64_data',
  doubleData: 'double_data', uint64Data: 'uint64_data',
};

/** The typed field onnx.proto assigns to a data type. */
function typedFieldOf(dataType: number): TypedField {
  switch (dataType) {
    case OnnxDataType.FLOAT: return 'floatData';
    case OnnxDataType.INT64: return 'int64Data';
    case OnnxDataType.DOUBLE: return 'doubleData';
    case OnnxDataType.UINT32: case OnnxDataType.UINT64: return 'uint64Data';
    default: return 'int32Data';
  }
}

function tensorFromMsg(t: TensorMsg, ctx: Ctx, label: string): OnnxTensor {
  const at = (extra: Omit<ErrorContext, 'file' | 'tensor'> = {}): ErrorContext => ctx.at({ tensor: label, ...extra });
  const dataType = t.dataType ?? 0;
  if (dataType === OnnxDataType.UNDEFINED) {
    throw new EdgennError('DECODE', 'tensor has no data_type', at({ expected: 'a TensorProto.DataType' }));
  }
  if (!isKnownDataType(dataType)) {
    throw new EdgennError('UNSUPPORTED', `tensor has ${dataTypeName(dataType)}`, at({ actual: dataTypeName(dataType) }));
  }
  const storage = storageOf(dataType);
  if (storage === undefined) {
    throw new EdgennError('UNSUPPORTED', `tensor data type ${dataTypeName(dataType)} is not supported`,
      at({ actual: dataTypeName(dataType) }));
  }
  if (t.segment !== null && t.segment !== undefined) {
    throw new EdgennError('UNSUPPORTED', 'segmented tensors are not supported', at({ actual: 'TensorProto.segment' }));
  }

  const dims: number[] = [];
  for (const d of t.dims ?? []) {
    const n = int64ToSafeNumber(d);
    if (n !== null && n < 0) {
      throw new EdgennError('DECODE', 'negative dimension', at({ expected: 'dims >= 0', actual: String(n) }));
    }
    if (n === null || n > MAX_DIM) {
      throw new EdgennError('LIMIT', 'a dimension is 2^31 or more',
        at({ expected: `dims <= ${MAX_DIM}`, actual: String(int64ToBigInt(d)) }));
    }
    dims.push(n);
  }
  // NOTE: the product of many dims can exceed 2^53 and lose exactness; it is then far above any
  // limit, which is all that matters here.
  const n = elementCount(dims);
  const jsBytes = n * storage.jsBytesPerElement;
  const shapeText = `[${dims.join(', ')}] ${dataTypeName(dataType)}`;
  if (jsBytes > ctx.maxTensorBytes) {
    throw new EdgennError('LIMIT', `tensor ${shapeText} needs ${jsBytes} bytes`,
      at({ expected: `<= ${ctx.maxTensorBytes} bytes (maxTensorBytes)`, actual: `${jsBytes} bytes` }));
  }
  if (ctx.totalBytes + jsBytes > ctx.maxTotalBytes) {
    throw new EdgennError('LIMIT', `tensors together need more than ${ctx.maxTotalBytes} bytes`,
      at({ expected: `<= ${ctx.maxTotalBytes} bytes (maxTotalBytes)`, actual: `${ctx.totalBytes + jsBytes} bytes` }));
  }
  ctx.totalBytes += jsBytes;

  const raw = t.rawData ?? new Uint8Array(0);
  const present = TYPED_FIELDS.filter((k) => (t[k]?.length ?? 0) > 0);
  let data: OnnxTensorData;
  if (t.dataLocation === 1) {
    if (raw.length > 0 || present.length > 0) {
      throw new EdgennError('DECODE', 'tensor is EXTERNAL but also holds data inline', at({}));
    }
    data = fromRawBytes(dataType, readExternal(t, storage.rawBytes(n), ctx, label), n);
  } else if (t.dataLocation !== undefined && t.dataLocation !== 0) {
    throw new EdgennError('UNSUPPORTED', `data_location ${t.dataLocation}`, at({ expected: 'DEFAULT (0) or EXTERNAL (1)' }));
  } else if (raw.length > 0) {
    if (present.length > 0) {
      throw new EdgennError('DECODE', `tensor has both raw_data and ${FIELD_NAMES[present[0]!]}`, at({}));
    }
    if (raw.length !== storage.rawBytes(n)) {
      throw new EdgennError('DECODE', `raw_data size does not match ${shapeText}`,
        at({ expected: `${storage.rawBytes(n)} bytes`, actual: `${raw.length} bytes` }));
    }
    data = fromRawBytes(dataType, raw, n);
  } else {
    const field = typedFieldOf(dataType);
    const wrong = present.find((k) => k !== field);
    if (wrong !== undefined) {
      throw new EdgennError('DECODE', `${FIELD_NAMES[wrong]} cannot hold ${dataTypeName(dataType)} data`,
        at({ expected: FIELD_NAMES[field] }));
    }
    data = typedData(t, field, dataType, n, shapeText, at);
  }
  const tensor: OnnxTensor = { name: t.name ?? '', dataType, dims, data };
  return withDoc(tensor, t.docString);
}

function typedData(t: TensorMsg, field: TypedField, dataType: OnnxDataType, n: number, shapeText: string,
                   at: (e?: Omit<ErrorContext, 'file' | 'tensor'>) => ErrorContext): OnnxTensorData {
  const mismatch = (len: number, want: number): EdgennError =>
    new EdgennError('DECODE', `${FIELD_NAMES[field]} length does not match ${shapeText}`,
      at({ expected: `${want} values`, actual: `${len} values` }));
  switch (field) {
    case 'floatData': {
      const v = t.floatData ?? [];
      if (v.length !== n) throw mismatch(v.length, n);
      return Float32Array.from(v);
    }
    case 'doubleData': {
      const v = t.doubleData ?? [];
      if (v.length !== n) throw mismatch(v.length, n);
      return Float64Array.from(v);
    }
    case 'int64Data': {
      const v = t.int64Data ?? [];
      if (v.length !== n) throw mismatch(v.length, n);
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = int64ToBigInt(v[i], false);
      return out;
    }
    case 'uint64Data': {
      const v = t.uint64Data ?? [];
      if (v.length !== n) throw mismatch(v.length, n);
      const out = allocData(dataType, n) as Uint32Array | BigUint64Array;
      for (let i = 0; i < n; i++) {
        const x = int64ToBigInt(v[i], true);
        if (out instanceof Uint32Array) {
          if (x > 0xffffffffn) throw new EdgennError('DECODE', `uint64_data value ${x} does not fit UINT32`, at({}));
          out[i] = Number(x);
        } else {
          out[i] = x;
        }
      }
      return out;
    }
    case 'int32Data': {
      const v = t.int32Data ?? [];
      const data = fromInt32Data(dataType, v, n);
      if (data === null) {
        // sub-byte types pack 2 (4-bit) or 4 (2-bit) elements into each int32_data value
        const per = dataType === OnnxDataType.INT4 || dataType === OnnxDataType.UINT4 ? 2
          : dataType === OnnxDataType.INT2 || dataType === OnnxDataType.UINT2 ? 4 : 1;
        throw mismatch(v.length, Math.ceil(n / per));
      }
      return data;
    }
    case 'stringData':
      throw new EdgennError('UNSUPPORTED', 'STRING tensors are not supported', at({ actual: 'STRING' })); // unreachable: storageOf
  }
}

/** Reads `want` bytes of external data, refusing any location outside the model's folder. */
function readExternal(t: TensorMsg, want: number, ctx: Ctx, label: string): Uint8Array {
  const at = (extra: Omit<ErrorContext, 'file' | 'tensor'> = {}): ErrorContext => ctx.at({ tensor: label, ...extra });
  const kv = new Map<string, string>();
  for (const e of t.externalData ?? []) kv.set(e.key ?? '', e.value ?? '');
  const location = kv.get('location') ?? '';
  if (location === '') throw new EdgennError('DECODE', 'external data has no location', at({ expected: "an external_data entry 'location'" }));
  if (ctx.baseDir === undefined) {
    throw new EdgennError('ARG', 'external data needs the model folder: pass opts.file or opts.baseDir', at({ actual: location }));
  }
  const escapes = (why: string): EdgennError =>
    new EdgennError('DECODE', `external data location '${location}' ${why}`, at({ expected: `a path inside ${ctx.baseDir}` }));
  if (location.includes('\0')) throw escapes('contains a NUL byte');
  if (isAbsolute(location) || win32.isAbsolute(location)) throw escapes('is absolute');
  if (location.split(/[\\/]/).includes('..')) throw escapes("contains '..'");

  const parseInt10 = (key: string): number | undefined => {
    const s = kv.get(key);
    if (s === undefined) return undefined;
    const v = /^[0-9]{1,16}$/.test(s) ? Number(s) : NaN;
    if (!Number.isSafeInteger(v)) throw new EdgennError('DECODE', `external data ${key} '${s}' is not a byte count`, at({}));
    return v;
  };
  const offset = parseInt10('offset') ?? 0;
  const length = parseInt10('length');
  if (length !== undefined && length !== want) {
    throw new EdgennError('DECODE', 'external data length does not match the tensor size',
      at({ expected: `${want} bytes`, actual: `${length} bytes` }));
  }

  let realBase: string, realTarget: string;
  try {
    realBase = realpathSync(ctx.baseDir);
  } catch (e) {
    throw new EdgennError('IO', `model folder not found: ${(e as Error).message}`, at({}));
  }
  try {
    realTarget = realpathSync(resolve(ctx.baseDir, location));
  } catch (e) {
    throw new EdgennError('IO', `external data file not found: ${(e as Error).message}`, at({ actual: location }));
  }
  const prefix = realBase.endsWith(sep) ? realBase : realBase + sep;
  if (!realTarget.startsWith(prefix)) throw escapes(`resolves outside the model folder (to ${realTarget})`);

  let fd: number;
  try {
    fd = openSync(realTarget, 'r');
  } catch (e) {
    throw new EdgennError('IO', `cannot open external data: ${(e as Error).message}`, at({ actual: location }));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new EdgennError('DECODE', `external data location '${location}' is not a regular file`, at({}));
    if (offset + want > st.size) {
      throw new EdgennError('DECODE', 'external data range runs past the end of its file',
        at({ expected: `offset ${offset} + ${want} bytes <= ${st.size}`, actual: location }));
    }
    const buf = new Uint8Array(want);
    let done = 0;
    while (done < want) {
      const r = readSync(fd, buf, done, want - done, offset + done);
      if (r <= 0) throw new EdgennError('IO', 'external data file ended early', at({ actual: location }));
      done += r;
    }
    return buf;
  } catch (e) {
    if (e instanceof EdgennError) throw e;
    throw new EdgennError('IO', `cannot read external data: ${(e as Error).message}`, at({ actual: location }));
  } finally {
    closeSync(fd);
  }
}
