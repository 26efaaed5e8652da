// Checkpoints: a compiled model's parameters, optimizer state and step count in one binary file,
// written atomically and reloaded bit-exactly. A CRC-32 over the whole file refuses a corrupt or
// truncated checkpoint with a clear error instead of loading garbage.
//
// Layout (all little-endian):
//   magic "EDGENNCK" (8 bytes) | version u32 | header length u32 | header JSON (UTF-8)
//   | parameter floats (f32, in header order) | optimizer state floats (f32)
//   | CRC-32 of every byte before it (u32)
// The header lists each tensor's name, dims and float count, the optimizer config, the step
// count and free-form metadata.
import { readFileSync } from 'node:fs';
import { EdgennError } from '../errors.js';
import { crc32 } from '../crc32.js';
import type { Model } from '../model.js';
import { writeFileAtomicSync } from './atomic-write.js';

const MAGIC = 'EDGENNCK';
const VERSION = 1;

export interface CheckpointTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly floats: number;
}

export interface CheckpointHeader {
  readonly params: readonly CheckpointTensor[];
  readonly optimizer: unknown;
  readonly stateFloats: number;
  readonly stepCount: number;
  readonly meta: Record<string, unknown>;
}

/** Serialises the model's parameters (trainable and frozen) and optimizer state. */
export function encodeCheckpoint(model: Model, meta: Record<string, unknown> = {}): Uint8Array {
  const names = model.paramNames();
  const params = names.map((name) => ({ name, dims: [...model.paramShape(name)], floats: model.param(name).length }));
  const state = model.optimizerState();
  const header: CheckpointHeader = {
    params, optimizer: model.optimizer?.config() ?? null, stateFloats: state.length, stepCount: model.stepCount, meta,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const floats = params.reduce((s, p) => s + p.floats, 0) + state.length;
  const total = 8 + 4 + 4 + json.length + 4 * floats + 4;
  const bytes = new Uint8Array(total);
  const dv = new DataView(bytes.buffer);
  bytes.set(Buffer.from(MAGIC, 'latin1'), 0);
  dv.setUint32(8, VERSION, true);
  dv.setUint32(12, json.length, true);
  bytes.set(json, 16);
  let off = 16 + json.length;
  const put = (src: Float32Array): void => {
    for (let i = 0; i < src.length; i++, off += 4) dv.setFloat32(off, src[i]!, true);
  };
  for (const p of params) put(model.param(p.name));
  put(state);
  dv.setUint32(off, crc32(bytes, 0, off), true);
  return bytes;
}

export function saveCheckpoint(path: string, model: Model, meta: Record<string, unknown> = {}): void {
  writeFileAtomicSync(path, encodeCheckpoint(model, meta));
}

/** Checks integrity and decodes the header; `file` names the source in errors. */
export function decodeCheckpointHeader(bytes: Uint8Array, file = 'checkpoint'): { header: CheckpointHeader; dataAt: number } {
  if (bytes.length < 20 || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) {
    throw new EdgennError('DECODE', 'not an edgenn checkpoint (bad magic)', { file, expected: `"${MAGIC}"` });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== VERSION) {
    throw new EdgennError('UNSUPPORTED', 'unsupported checkpoint version', { file, expected: String(VERSION), actual: String(version) });
  }
  const stored = dv.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes, 0, bytes.length - 4);
  if (stored !== actual) {
    throw new EdgennError('CHECKSUM', 'checkpoint is corrupt or truncated (CRC-32 mismatch)', {
      file, expected: stored.toString(16).padStart(8, '0'), actual: actual.toString(16).padStart(8, '0'),
    });
  }
  const hlen = dv.getUint32(12, true);
  if (16 + hlen + 4 > bytes.length) throw new EdgennError('CHECKSUM', 'checkpoint is truncated', { file });
  let header: CheckpointHeader;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + hlen)).toString('utf8')) as CheckpointHeader;
  } catch (e) {
    throw new EdgennError('DECODE', `checkpoint header is not valid JSON: ${(e as Error).message}`, { file });
  }
  const floats = header.params.reduce((s, p) => s + p.floats, 0) + header.stateFloats;
  if (16 + hlen + 4 * floats + 4 !== bytes.length) {
    throw new EdgennError('CHECKSUM', 'checkpoint size does not match its header', {
      file, expected: `${16 + hlen + 4 * floats + 4} bytes`, actual: `${bytes.length} bytes`,
    });
  }
  return { header, dataAt: 16 + hlen };
}

/**
 * Loads parameters (and, when the model's optimizer has the same state size, the optimizer state
 * and step count) into a compiled model. Every tensor is checked before anything is written, so
 * a mismatch leaves the model untouched. Returns the checkpoint's metadata.
 */
export function decodeCheckpointInto(bytes: Uint8Array, model: Model, file = 'checkpoint'): Record<string, unknown> {
  const { header, dataAt } = decodeCheckpointHeader(bytes, file);
  const have = new Set(model.paramNames());
  for (const p of header.params) {
    if (!have.has(p.name)) {
      throw new EdgennError('SHAPE', 'checkpoint has a parameter the model does not', { file, tensor: p.name, expected: [...have].join(', ') });
    }
    const dims = model.paramShape(p.name);
    if (dims.length !== p.dims.length || dims.some((d, i) => d !== p.dims[i])) {
      throw new EdgennError('SHAPE', 'checkpoint parameter shape differs from the model', { file, tensor: p.name, expected: `[${dims.join(', ')}]`, actual: `[${p.dims.join(', ')}]` });
    }
  }
  const missing = [...have].filter((n) => !header.params.some((p) => p.name === n));
  if (missing.length > 0) {
    throw new EdgennError('SHAPE', `checkpoint lacks parameters: ${missing.join(', ')}`, { file });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = dataAt;
  for (const p of header.params) {
    const dst = model.param(p.name);
    for (let i = 0; i < p.floats; i++, off += 4) dst[i] = dv.getFloat32(off, true);
  }
  const state = model.optimizerState();
  if (header.stateFloats === state.length && state.length > 0) {
    for (let i = 0; i < state.length; i++, off += 4) state[i] = dv.getFloat32(off, true);
    model.stepCount = header.stepCount;
  }
  return header.meta;
}

export function loadCheckpoint(path: string, model: Model): Record<string, unknown> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EdgennError('IO', `cannot read checkpoint: ${(e as Error).message}`, { file: path });
  }
  return decodeCheckpointInto(bytes, model, path);
}
