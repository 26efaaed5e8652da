// OnnxModel / OnnxTensor (model.ts) -> ONNX bytes; the exporter constructs OnnxModel values and
// calls encodeModel. It is NOT a graph checker (run validateGraph first if the model is built by
// hand). Every tensor is written as little-endian raw_data (onnx.proto allows it for every
// numeric type), so decodeModel(encodeModel(m)) gives back m exactly (tested on all fixtures).
// The default domain 'ai.onnx' is written as '' (the spelling every runtime accepts).
// Throws EdgennError 'ARG' when a tensor's data does not fit its dims or data type.
import { EdgennError } from '../../runtime/errors.js';
import {
  DEFAULT_DOMAIN, dataTypeName, elementCount,
  type OnnxAttribute, type OnnxDim, type OnnxGraph, type OnnxModel, type OnnxTensor, type OnnxType,
  type OnnxValueInfo,
} from './model.js';
import {
  encodeModelProto, encodeTensorProto, bigIntToInt64,
  type AttributeMsg, type GraphMsg, type Int64, type ModelMsg, type NodeMsg, type TensorMsg,
  type TensorShapeMsg, type TypeMsg, type ValueInfoMsg,
} from './proto.js';
import { dataMatchesType, toRawBytes } from './tensor-data.js';

export function encodeModel(model: OnnxModel): Uint8Array {
  const opsetImport = [...model.opsetImports].map(([domain, version]) => ({
    domain: domain === DEFAULT_DOMAIN ? '' : domain,
    version: int64(version),
  }));
  const msg: ModelMsg = {
    irVersion: int64(model.irVersion),
    opsetImport,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    domain: model.domain,
    modelVersion: int64(model.modelVersion),
    docString: model.docString,
    graph: graphToMsg(model.graph),
    metadataProps: [...model.metadata].map(([key, value]) => ({ key, value })),
  };
  return encodeModelProto(msg);
}

export function encodeTensor(t: OnnxTensor): Uint8Array {
  return encodeTensorProto(tensorToMsg(t));
}

function int64(v: number): Int64 {
  return bigIntToInt64(BigInt(v));
}

function graphToMsg(g: OnnxGraph): GraphMsg {
  return {
    name: g.name,
    node: g.nodes.map((n): NodeMsg => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain === DEFAULT_DOMAIN ? '' : n.domain,
      input: [...n.inputs],
      output: [...n.outputs],
      attribute: [...n.attributes].map(([name, a]) => attributeToMsg(name, a)),
      docString: n.docString ?? '',
    })),
    initializer: [...g.initializers.values()].map(tensorToMsg),
    input: g.inputs.map(valueInfoToMsg),
    output: g.outputs.map(valueInfoToMsg),
    valueInfo: g.valueInfo.map(valueInfoToMsg),
    docString: g.docString ?? '',
  };
}

const utf8 = new TextEncoder();

function attributeToMsg(name: string, a: OnnxAttribute): AttributeMsg {
  switch (a.type) {
    case 'float': return { name, type: 1, f: a.value };
    case 'int': return { name, type: 2, i: int64(a.value) };
    case 'string': return { name, type: 3, s: utf8.encode(a.value) };
    case 'tensor': return { name, type: 4, t: tensorToMsg(a.value) };
    case 'graph': return { name, type: 5, g: graphToMsg(a.value) };
    case 'floats': return { name, type: 6, floats: [...a.value] };
    case 'ints': return { name, type: 7, ints: a.value.map(int64) };
    case 'strings': return { name, type: 8, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensors': return { name, type: 9, tensors: a.value.map(tensorToMsg) };
    case 'graphs': return { name, type: 10, graphs: a.value.map(graphToMsg) };
  }
}

function tensorToMsg(t: OnnxTensor): TensorMsg {
  if (!dataMatchesType(t.dataType, t.data)) {
    throw new EdgennError('ARG', `tensor data is a ${t.data.constructor.name}, which cannot hold ${dataTypeName(t.dataType)}`,
      { tensor: t.name, expected: `the storage class of ${dataTypeName(t.dataType)} (see OnnxTensorData)` });
  }
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new EdgennError('ARG', 'tensor dims must be integers >= 0', { tensor: t.name, actual: `[${t.dims.join(', ')}]` });
    }
  }
  const n = elementCount(t.dims);
  if (t.data.length !== n) {
    throw new EdgennError('ARG', 'tensor data length does not match its dims',
      { tensor: t.name, expected: `${n} elements for [${t.dims.join(', ')}]`, actual: `${t.data.length}` });
  }
  return {
    name: t.name,
    dataType: t.dataType,
    dims: t.dims.map(int64),
    rawData: toRawBytes(t.dataType, t.data),
    docString: t.docString ?? '',
  };
}

function valueInfoToMsg(v: OnnxValueInfo): ValueInfoMsg {
  return { name: v.name, type: v.type === null ? null : typeToMsg(v.type), docString: v.docString ?? '' };
}

function typeToMsg(t: OnnxType): TypeMsg {
  switch (t.kind) {
    case 'tensor': return { tensorType: { elemType: t.elemType, shape: shapeToMsg(t.shape) } };
    case 'sparse_tensor': return { sparseTensorType: { elemType: t.elemType, shape: shapeToMsg(t.shape) } };
    case 'sequence': return { sequenceType: { elemType: t.elem === null ? null : typeToMsg(t.elem) } };
    case 'optional': return { optionalType: { elemType: t.elem === null ? null : typeToMsg(t.elem) } };
    case 'map': return { mapType: { keyType: t.keyType, valueType: t.value === null ? null : typeToMsg(t.value) } };
  }
}

function shapeToMsg(shape: readonly OnnxDim[] | null): TensorShapeMsg | null {
  if (shape === null) return null;
  return {
    dim: shape.map((d) => (typeof d === 'number' ? { dimValue: int64(d) } : typeof d === 'string' ? { dimParam: d } : {})),
  };
}
