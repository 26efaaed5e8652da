// Matching a data file's shape to a model tensor's per-sample dims, for `train --data/--labels`
// and `run --input`. A file [N, ...dims] fits a tensor of per-sample dims `dims`; so does a
// rank-2 file [N, prod(dims)] (a CSV row holds one flattened sample, e.g. a [C, L] conv input);
// so does a [N] file when dims is [1] (one value per row). Errors name the file, the tensor, the
// expected and the actual shape.
import { EdgennError } from '../../runtime/errors.js';
import type { Graph, Value } from '../../runtime/graph/graph.js';

export function sizeOfDims(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Rows N of a file of shape fileDims holding samples of per-sample dims `dims`; throws 'SHAPE'. */
export function rowsFor(fileDims: readonly number[], dims: readonly number[], file: string, tensor: string): number {
  const per = sizeOfDims(dims);
  const N = fileDims[0];
  const rest = fileDims.slice(1);
  const same = rest.length === dims.length && rest.every((d, i) => d === dims[i]);
  const flat = rest.length === 1 && rest[0] === per;
  const column = rest.length === 0 && per === 1;
  if (N === undefined || !(same || flat || column)) {
    throw new EdgennError('SHAPE', 'data shape does not match the model', {
      file, tensor, expected: `[N, ${dims.join(', ')}]${dims.length > 1 ? ` or [N, ${per}]` : ''}`, actual: `[${fileDims.join(', ')}]`,
    });
  }
  return N;
}

export function graphInputs(g: Graph): Value[] {
  return g.inputs.map((id) => g.values[id]!);
}

export function graphOutputs(g: Graph): Value[] {
  return g.outputs.map((id) => g.values[id]!);
}
