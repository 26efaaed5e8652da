// Data file loaders (CSV, .npy, JSON tensors) and the checks run on loaded data: the one entry
// point for tools/ and devices/. Pure parsers work on strings/bytes; load.ts adds node:fs.
export { parseCsv, type CsvOptions, type CsvTable } from './csv.js';
export {
  decodeNpy, encodeNpy, NPY_DEFAULT_MAX_BYTES,
  type NpyArray, type NpyFloatArray, type NpyIntArray, type NpyDtype, type NpyFloatDtype, type NpyIntDtype,
  type NpyDecodeOptions,
} from './npy.js';
export { parseJsonTensor, type JsonTensor, type JsonTensorOptions } from './json-tensor.js';
export { checkFinite, checkClassLabels, formatIndex } from './checks.js';
export {
  loadDataFile, loadLabelsFile, readNpyFile, writeNpyFile, SUPPORTED_EXTENSIONS,
  type LoadOptions, type LoadedData,
} from './load.js';
