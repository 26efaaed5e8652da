// Model files for the CLI: `<model>` arguments are loaded by extension and `--out` files saved
// the same way. A small dispatch, so other formats plug in here (the ONNX importer adds '.onnx':
// one case in formatOf, one in loadModelFile, one in saveModelFile, and a ModelMeta variant).
//
// What it is: file I/O (size-limited read, atomic write) around the importers. What it is not:
// no parsing (importers/json-model.ts does it), no compiling (the commands choose the batch).
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import type { Graph } from '../../runtime/graph/graph.js';
import type { Model } from '../../runtime/model.js';
import {
  jsonModelGraph, modelToJson, parseJsonModel, stringifyJsonModel, type JsonModelSpec,
} from '../../importers/json-model.js';
import { writeFileAtomic } from './atomic-write.js';
import { importOnnx, type ImportedModel } from '../../importers/onnx/import.js';
import { exportOnnxBytes } from '../../importers/onnx/export.js';

export type ModelFormat = 'json' | 'onnx';

/** What a loader keeps besides the graph, to write the model back in its own format. */
export type ModelMeta =
  | { readonly kind: 'json'; readonly spec: JsonModelSpec }
  | { readonly kind: 'onnx'; readonly imported: ImportedModel };

export interface LoadedModel {
  readonly file: string;
  readonly graph: Graph;
  readonly format: ModelFormat;
  readonly meta: ModelMeta;
}

export const MODEL_EXTENSIONS: readonly string[] = ['.json', '.onnx'];

/** Model files larger than this are refused before reading (a JSON model of 64 MiB is ~5M weights). */
export const MODEL_MAX_BYTES = 256 * 1024 * 1024;

function formatOf(path: string): ModelFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.onnx') return 'onnx';
  throw new EdgennError('UNSUPPORTED', `unsupported model file extension ${ext === '' ? '(none)' : JSON.stringify(ext)}`,
    { file: path, expected: `one of ${MODEL_EXTENSIONS.join(', ')} (the JSON model format, docs/model-format.md)` });
}

function readModelBytes(path: string): Buffer {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'ENOTFILE' });
    if (st.size > MODEL_MAX_BYTES) {
      throw new EdgennError('LIMIT', 'model file is too large', { file: path, expected: `at most ${MODEL_MAX_BYTES} bytes`, actual: `${st.size} bytes` });
    }
    return readFileSync(path);
  } catch (e) {
    if (e instanceof EdgennError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new EdgennError('IO', `cannot read model: ${err.message ?? String(e)}`, { file: path });
  }
}

/** Loads a model file by its extension. */
export function loadModelFile(path: string): LoadedModel {
  const format = formatOf(path);
  switch (format) {
    case 'json': {
      const spec = parseJsonModel(readModelBytes(path).toString('utf8'), path);
      return { file: path, graph: jsonModelGraph(spec, path), format, meta: { kind: 'json', spec } };
    }
    case 'onnx': {
      const imported = importOnnx(new Uint8Array(readModelBytes(path)), { file: path });
      return { file: path, graph: imported.graph, format, meta: { kind: 'onnx', imported } };
    }
    default: {
      const never: never = format;
      throw new EdgennError('UNSUPPORTED', `model format ${String(never)}`, { file: path });
    }
  }
}

/** Writes `model`'s current parameters in the format of path's extension, atomically. */
export function saveModelFile(path: string, model: Model, loaded: LoadedModel): void {
  const format = formatOf(path);
  switch (format) {
    case 'json': {
      if (loaded.meta.kind !== 'json') {
        throw new EdgennError('UNSUPPORTED', `a ${loaded.format} model cannot be saved as a JSON model`, { file: path });
      }
      writeFileAtomic(path, stringifyJsonModel(modelToJson(model, loaded.meta.spec)));
      return;
    }
    case 'onnx':
      // any graph exports (JSON models included); the weights are the model's current ones
      writeFileAtomic(path, exportOnnxBytes(model, { opset: 17 }));
      return;
    default: {
      const never: never = format;
      throw new EdgennError('UNSUPPORTED', `model format ${String(never)}`, { file: path });
    }
  }
}

/** Checks before training that `--out` can be written in a format the loaded model supports. */
export function checkSavable(path: string, loaded: LoadedModel): void {
  const format = formatOf(path);
  if (format === 'json' && loaded.meta.kind !== 'json') {
    throw new EdgennError('UNSUPPORTED', `a ${loaded.format} model cannot be saved as a JSON model`, { file: path });
  }
}
