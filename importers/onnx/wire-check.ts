// A schema-aware walk over protobuf wire bytes, run before protobufjs decodes an ONNX file.
// It is NOT a decoder (it builds nothing); it proves the bytes are safe and faithful to decode:
//   - every length stays inside its parent, every varint ends within 10 bytes, no groups
//     (onnx.proto has none), packed fixed-width arrays have whole elements;
//   - nesting depth is bounded (protobufjs's static decoders recurse without a limit);
//   - the number of JS objects protobufjs will create (messages, strings/bytes, int64 Longs) is
//     bounded, so a small file cannot expand into gigabytes of objects;
//   - each known field has the wire type its schema says (protobufjs's static code does not check,
//     a mismatch would be silently misread);
//   - no field is unknown to onnx-proto, which is generated from ONNX 1.10 (IR 8) and would
//     silently drop it. Fields added by IR 9-13 that only carry metadata are allowed (listed as
//     `ignorable`); the others (NodeProto.overload, TypeProto.opaque_type, ...) are 'UNSUPPORTED';
//     a field number no ONNX up to IR 13 has is 'DECODE' (corruption: newer IR versions are
//     refused before this walk, see peekIrVersion).
// Field numbers: onnx.proto (ONNX 1.10) as compiled into onnx-proto, plus later additions.
import { EdgennError } from '../../runtime/errors.js';

/** 'int64' = a varint that protobufjs turns into a Long object (counted against the object budget). */
type Scalar = 'varint' | 'int64' | 'fixed32' | 'fixed64' | 'bytes';
interface FieldSpec {
  readonly name: string;
  /** a scalar wire kind, or the name of a message in SCHEMA */
  readonly kind: Scalar | string;
  readonly repeated?: boolean;
}
interface NewerField { readonly name: string; readonly since: string; readonly ignorable: boolean }
interface MessageSpec {
  readonly fields: Readonly<Record<number, FieldSpec>>;
  readonly newer?: Readonly<Record<number, NewerField>>;
}

const f = (name: string, kind: string, repeated = false): FieldSpec => ({ name, kind, repeated });
const meta = (since: string): NewerField => ({ name: 'metadata_props', since, ignorable: true });

const SCHEMA: Readonly<Record<string, MessageSpec>> = {
  ModelProto: {
    fields: {
      1: f('ir_version', 'int64'), 2: f('producer_name', 'bytes'), 3: f('producer_version', 'bytes'),
      4: f('domain', 'bytes'), 5: f('model_version', 'int64'), 6: f('doc_string', 'bytes'),
      7: f('graph', 'GraphProto'), 8: f('opset_import', 'OperatorSetIdProto', true),
      14: f('metadata_props', 'StringStringEntryProto', true),
      20: f('training_info', 'TrainingInfoProto', true), 25: f('functions', 'FunctionProto', true),
    },
    newer: { 26: { name: 'configuration', since: 'IR 11', ignorable: true } },
  },
  OperatorSetIdProto: { fields: { 1: f('domain', 'bytes'), 2: f('version', 'int64') } },
  StringStringEntryProto: { fields: { 1: f('key', 'bytes'), 2: f('value', 'bytes') } },
  TrainingInfoProto: {
    fields: {
      1: f('initialization', 'GraphProto'), 2: f('algorithm', 'GraphProto'),
      3: f('initialization_binding', 'StringStringEntryProto', true),
      4: f('update_binding', 'StringStringEntryProto', true),
    },
  },
  FunctionProto: {
    fields: {
      1: f('name', 'bytes'), 4: f('input', 'bytes', true), 5: f('output', 'bytes', true),
      6: f('attribute', 'bytes', true), 7: f('node', 'NodeProto', true), 8: f('doc_string', 'bytes'),
      9: f('opset_import', 'OperatorSetIdProto', true), 10: f('domain', 'bytes'),
    },
    // model-local functions are refused by decode.ts anyway, so what onnx-proto drops here is moot
    newer: {
      11: { name: 'attribute_proto', since: 'IR 9', ignorable: true },
      12: { name: 'value_info', since: 'IR 10', ignorable: true },
      13: { name: 'overload', since: 'IR 10', ignorable: true },
      14: meta('IR 10'),
    },
  },
  GraphProto: {
    fields: {
      1: f('node', 'NodeProto', true), 2: f('name', 'bytes'), 5: f('initializer', 'TensorProto', true),
      10: f('doc_string', 'bytes'), 11: f('input', 'ValueInfoProto', true),
      12: f('output', 'ValueInfoProto', true), 13: f('value_info', 'ValueInfoProto', true),
      14: f('quantization_annotation', 'TensorAnnotation', true),
      15: f('sparse_initializer', 'SparseTensorProto', true),
    },
    newer: { 16: meta('IR 10') },
  },
  NodeProto: {
    fields: {
      1: f('input', 'bytes', true), 2: f('output', 'bytes', true), 3: f('name', 'bytes'),
      4: f('op_type', 'bytes'), 5: f('attribute', 'AttributeProto', true), 6: f('doc_string', 'bytes'),
      7: f('domain', 'bytes'),
    },
    newer: {
      8: { name: 'overload', since: 'IR 10', ignorable: false },
      9: meta('IR 10'),
      10: { name: 'device_configurations', since: 'IR 11', ignorable: true },
    },
  },
  AttributeProto: {
    fields: {
      1: f('name', 'bytes'), 2: f('f', 'fixed32'), 3: f('i', 'int64'), 4: f('s', 'bytes'),
      5: f('t', 'TensorProto'), 6: f('g', 'GraphProto'), 7: f('floats', 'fixed32', true),
      8: f('ints', 'int64', true), 9: f('strings', 'bytes', true), 10: f('tensors', 'TensorProto', true),
      11: f('graphs', 'GraphProto', true), 13: f('doc_string', 'bytes'), 14: f('tp', 'TypeProto'),
      15: f('type_protos', 'TypeProto', true), 20: f('type', 'varint'), 21: f('ref_attr_name', 'bytes'),
      22: f('sparse_tensor', 'SparseTensorProto'), 23: f('sparse_tensors', 'SparseTensorProto', true),
    },
  },
  ValueInfoProto: {
    fields: { 1: f('name', 'bytes'), 2: f('type', 'TypeProto'), 3: f('doc_string', 'bytes') },
    newer: { 4: meta('IR 10') },
  },
  TensorAnnotation: {
    fields: { 1: f('tensor_name', 'bytes'), 2: f('quant_parameter_tensor_names', 'StringStringEntryProto', true) },
  },
  TensorProto: {
    fields: {
      1: f('dims', 'int64', true), 2: f('data_type', 'varint'), 3: f('segment', 'Segment'),
      4: f('float_data', 'fixed32', true), 5: f('int32_data', 'varint', true),
      6: f('string_data', 'bytes', true), 7: f('int64_data', 'int64', true), 8: f('name', 'bytes'),
      9: f('raw_data', 'bytes'), 10: f('double_data', 'fixed64', true),
      11: f('uint64_data', 'int64', true), 12: f('doc_string', 'bytes'),
      13: f('external_data', 'StringStringEntryProto', true), 14: f('data_location', 'varint'),
    },
    newer: { 16: meta('IR 10') },
  },
  Segment: { fields: { 1: f('begin', 'int64'), 2: f('end', 'int64') } },
  SparseTensorProto: {
    fields: { 1: f('values', 'TensorProto'), 2: f('indices', 'TensorProto'), 3: f('dims', 'int64', true) },
  },
  TensorShapeProto: { fields: { 1: f('dim', 'Dimension', true) } },
  Dimension: { fields: { 1: f('dim_value', 'int64'), 2: f('dim_param', 'bytes'), 3: f('denotation', 'bytes') } },
  TypeProto: {
    fields: {
      1: f('tensor_type', 'TypeTensor'), 4: f('sequence_type', 'TypeSequence'), 5: f('map_type', 'TypeMap'),
      6: f('denotation', 'bytes'), 8: f('sparse_tensor_type', 'TypeSparseTensor'),
      9: f('optional_type', 'TypeOptional'),
    },
    newer: { 7: { name: 'opaque_type', since: 'ONNX-ML', ignorable: false } },
  },
  TypeTensor: { fields: { 1: f('elem_type', 'varint'), 2: f('shape', 'TensorShapeProto') } },
  TypeSparseTensor: { fields: { 1: f('elem_type', 'varint'), 2: f('shape', 'TensorShapeProto') } },
  TypeSequence: { fields: { 1: f('elem_type', 'TypeProto') } },
  TypeOptional: { fields: { 1: f('elem_type', 'TypeProto') } },
  TypeMap: { fields: { 1: f('key_type', 'varint'), 2: f('value_type', 'TypeProto') } },
};

export type RootMessage = 'ModelProto' | 'TensorProto';

export interface WireCheckLimits {
  /** Deepest message nesting accepted (ModelProto → graph → node → attribute → g → ... ). */
  readonly maxDepth: number;
  /** Most JS objects (messages, strings, byte arrays, int64 Longs) protobufjs may create. */
  readonly maxObjects: number;
}

export const DEFAULT_WIRE_LIMITS: WireCheckLimits = { maxDepth: 64, maxObjects: 4_000_000 };

export interface WireCheckResult {
  /** Fields that onnx-proto will drop but that carry only metadata ('NodeProto.metadata_props'). */
  readonly dropped: readonly string[];
  readonly objects: number;
}

interface State {
  readonly bytes: Uint8Array;
  readonly file: string | undefined;
  readonly limits: WireCheckLimits;
  objects: number;
  readonly dropped: Set<string>;
}

/** Throws EdgennError ('DECODE' malformed, 'LIMIT' too deep or too many objects, 'UNSUPPORTED' a
 *  field onnx-proto cannot represent); returns what onnx-proto will silently drop. */
export function wireCheck(
  bytes: Uint8Array, root: RootMessage, file?: string, limits: WireCheckLimits = DEFAULT_WIRE_LIMITS,
): WireCheckResult {
  const st: State = { bytes, file, limits, objects: 1, dropped: new Set() };
  walkMessage(st, root, 0, bytes.length, 0, root);
  return { dropped: [...st.dropped], objects: st.objects };
}

function decodeError(st: State, what: string, path: string, pos: number): EdgennError {
  return new EdgennError('DECODE', `malformed protobuf in ${path} at byte ${pos}: ${what}`,
    st.file !== undefined ? { file: st.file } : {});
}

/** Reads a varint's end position; value only as a float (enough for tags, lengths and checks). */
function readVarint(st: State, pos: number, end: number, path: string): [value: number, next: number] {
  let value = 0, mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= end) throw decodeError(st, 'truncated varint', path, pos);
    const b = st.bytes[pos + i]!;
    value += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return [value, pos + i + 1];
  }
  throw decodeError(st, 'varint longer than 10 bytes', path, pos);
}

function countObjects(st: State, n: number, path: string): void {
  st.objects += n;
  if (st.objects > st.limits.maxObjects) {
    throw new EdgennError('LIMIT', `more than ${st.limits.maxObjects} protobuf values (at ${path})`,
      { ...(st.file !== undefined ? { file: st.file } : {}), expected: `<= ${st.limits.maxObjects} values` });
  }
}

function walkMessage(st: State, msg: string, start: number, end: number, depth: number, path: string): void {
  if (depth > st.limits.maxDepth) {
    throw new EdgennError('LIMIT', `messages nested deeper than ${st.limits.maxDepth} (at ${path})`,
      st.file !== undefined ? { file: st.file } : {});
  }
  const spec = SCHEMA[msg]!;
  let pos = start;
  while (pos < end) {
    const tagPos = pos;
    const [tag, afterTag] = readVarint(st, pos, end, path);
    pos = afterTag;
    const fieldNo = Math.floor(tag / 8);
    const wire = tag % 8;
    if (fieldNo === 0 || fieldNo > 536_870_911) throw decodeError(st, `invalid field number ${fieldNo}`, path, tagPos);
    // skip the value first (so that truncation is reported as such), then judge the field
    let valueStart = pos, valueEnd: number;
    switch (wire) {
      case 0: valueEnd = readVarint(st, pos, end, path)[1]; break;
      case 1: valueEnd = pos + 8; break;
      case 5: valueEnd = pos + 4; break;
      case 2: {
        const [len, afterLen] = readVarint(st, pos, end, path);
        valueStart = afterLen;
        valueEnd = afterLen + len;
        break;
      }
      default: throw decodeError(st, `unsupported wire type ${wire} (field ${fieldNo})`, path, tagPos);
    }
    if (valueEnd > end) throw decodeError(st, `field ${fieldNo} runs past the end of its message (truncated?)`, path, tagPos);
    pos = valueEnd;

    const field = spec.fields[fieldNo];
    if (field === undefined) {
      const newer = spec.newer?.[fieldNo];
      if (newer !== undefined && newer.ignorable) {
        st.dropped.add(`${msg}.${newer.name}`);
        continue;
      }
      if (newer !== undefined) {
        throw new EdgennError('UNSUPPORTED',
          `${msg}.${newer.name} (field ${fieldNo}, added in ${newer.since}) at ${path} is not in the schema of onnx-proto (ONNX 1.10 / IR 8) and would be silently dropped`,
          { ...(st.file !== undefined ? { file: st.file } : {}), actual: `${msg}.${newer.name}` });
      }
      // not a field of any ONNX up to IR 13 (decode.ts refuses newer IR versions before this walk)
      throw decodeError(st, `field ${fieldNo} is not part of ${msg} (corrupt or not an ONNX file?)`, path, tagPos);
    }
    const fpath = `${path}.${field.name}`;
    const kind = field.kind;
    const expectWire = kind === 'varint' || kind === 'int64' ? 0 : kind === 'fixed32' ? 5 : kind === 'fixed64' ? 1 : 2;
    if (wire !== expectWire) {
      // a repeated numeric field may come packed (wire type 2)
      if (!(wire === 2 && field.repeated === true && expectWire !== 2)) {
        throw decodeError(st, `wire type ${wire} where the schema says ${expectWire}`, fpath, tagPos);
      }
      checkPacked(st, kind as Scalar, valueStart, valueEnd, fpath);
      continue;
    }
    if (kind === 'int64') countObjects(st, 1, fpath);
    else if (kind === 'bytes') countObjects(st, 1, fpath);
    else if (SCHEMA[kind] !== undefined) {
      countObjects(st, 1, fpath);
      walkMessage(st, kind, valueStart, valueEnd, depth + 1, fpath);
    }
  }
}

function checkPacked(st: State, kind: Scalar, start: number, end: number, path: string): void {
  const len = end - start;
  if (kind === 'fixed32' || kind === 'fixed64') {
    const w = kind === 'fixed32' ? 4 : 8;
    if (len % w !== 0) throw decodeError(st, `packed array of ${len} bytes is not a multiple of ${w}`, path, start);
    return;
  }
  // varints: every one must end inside the packed region (protobufjs would read past it otherwise)
  let count = 0;
  for (let p = start; p < end; p++) if ((st.bytes[p]! & 0x80) === 0) count++;
  if (len > 0 && (st.bytes[end - 1]! & 0x80) !== 0) throw decodeError(st, 'packed varints run past their length', path, start);
  let run = 0;
  for (let p = start; p < end; p++) {
    run = (st.bytes[p]! & 0x80) !== 0 ? run + 1 : 0;
    if (run >= 10) throw decodeError(st, 'varint longer than 10 bytes', path, p);
  }
  if (kind === 'int64') countObjects(st, count, path);
}

/** ModelProto.ir_version read from the top level only, without decoding anything else; null when
 *  absent or when the top level is not well-formed (the full walk then reports why). */
export function peekIrVersion(bytes: Uint8Array): number | null {
  let pos = 0, ir: number | null = null;
  const varintAt = (p: number): [number, number] | null => {
    let v = 0, mul = 1;
    for (let i = 0; i < 10 && p + i < bytes.length; i++) {
      const b = bytes[p + i]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return [v, p + i + 1];
    }
    return null;
  };
  while (pos < bytes.length) {
    const t = varintAt(pos);
    if (t === null) return ir;
    const [tag, next] = t;
    const wire = tag % 8;
    if (wire === 0) {
      const v = varintAt(next);
      if (v === null) return ir;
      if (Math.floor(tag / 8) === 1) ir = v[0];
      pos = v[1];
    } else if (wire === 2) {
      const len = varintAt(next);
      if (len === null) return ir;
      pos = len[1] + len[0];
    } else if (wire === 1) pos = next + 8;
    else if (wire === 5) pos = next + 4;
    else return ir;
  }
  return ir;
}
