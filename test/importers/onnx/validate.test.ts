// validateGraph: dangling inputs, duplicate producers, unproduced graph outputs, optional ''
// inputs, topological reordering, cycles named by their nodes. Models are built as OnnxModel
// values; the decodeModel path (validate on by default) is checked on encoded bytes.
import { describe, expect, it } from 'vitest';
import { validateGraph } from '../../../importers/onnx/validate.js';
import { decodeModel } from '../../../importers/onnx/decode.js';
import { encodeModel } from '../../../importers/onnx/encode.js';
import { EdgennError } from '../../../runtime/errors.js';
import { OnnxDataType, type OnnxModel, type OnnxNode, type OnnxValueInfo } from '../../../importers/onnx/model.js';

const vi = (name: string): OnnxValueInfo =>
  ({ name, elemType: OnnxDataType.FLOAT, shape: [2], type: { kind: 'tensor', elemType: OnnxDataType.FLOAT, shape: [2] } });
const n = (name: string, opType: string, inputs: string[], outputs: string[]): OnnxNode =>
  ({ name, opType, domain: 'ai.onnx', inputs, outputs, attributes: new Map() });
const model = (nodes: OnnxNode[], inputs = ['x'], outputs = ['y'], inits: string[] = []): OnnxModel => ({
  irVersion: 8, opsetImports: new Map([['ai.onnx', 13]]), producerName: '', producerVersion: '', domain: '',
  modelVersion: 0, docString: '', metadata: new Map(),
  graph: {
    name: 'g', nodes, inputs: inputs.map(vi), outputs: outputs.map(vi), valueInfo: [],
    initializers: new Map(inits.map((k) => [k, { name: k, dataType: OnnxDataType.FLOAT, dims: [2], data: new Float32Array(2) }])),
  },
});

function graphError(f: () => unknown): EdgennError {
  try { f(); } catch (e) {
    expect(e).toBeInstanceOf(EdgennError);
    expect((e as EdgennError).code).toBe('GRAPH');
    return e as EdgennError;
  }
  throw new Error('expected a GRAPH error');
}

describe('validateGraph', () => {
  it('accepts a sorted graph unchanged, with initializers, Constant outputs and optional inputs', () => {
    const m = model([
      n('c', 'Constant', [], ['k']),
      n('clip', 'Clip', ['x', '', 'k'], ['h']),
      n('add', 'Add', ['h', 'w'], ['y']),
    ], ['x'], ['y'], ['w']);
    expect(validateGraph(m)).toBe(m);
  });

  it('sorts nodes listed out of order, stably', () => {
    const m = model([n('b', 'Relu', ['a1'], ['y']), n('a', 'Relu', ['x'], ['a1']), n('z', 'Relu', ['x'], ['unused'])]);
    const s = validateGraph(m);
    expect(s.graph.nodes.map((x) => x.name)).toEqual(['a', 'z', 'b']);
    expect(validateGraph(s)).toBe(s);
  });

  it('names a dangling input and its node', () => {
    const e = graphError(() => validateGraph(model([n('relu1', 'Relu', ['nope'], ['y'])])));
    expect(e.context).toMatchObject({ node: 'relu1', tensor: 'nope' });
  });

  it('refuses a value produced twice, or shadowing an input/initializer', () => {
    const e = graphError(() => validateGraph(model([n('a', 'Relu', ['x'], ['y']), n('b', 'Relu', ['x'], ['y'])])));
    expect(e.context).toMatchObject({ node: 'b', tensor: 'y' });
    expect(e.message).toContain('a');
    graphError(() => validateGraph(model([n('a', 'Relu', ['x'], ['w']), n('b', 'Relu', ['w'], ['y'])], ['x'], ['y'], ['w'])));
    graphError(() => validateGraph(model([n('a', 'Relu', ['y'], ['x'])], ['x', 'y'], ['x'])));
  });

  it('allows several absent optional outputs', () => {
    const m = model([n('d', 'Dropout', ['x'], ['y', ''])]);
    expect(validateGraph(m)).toBe(m);
    expect(validateGraph(model([n('a', 'Split', ['x'], ['', 'y', ''])]))).toBeTruthy();
  });

  it('refuses an unproduced graph output and duplicate graph inputs/outputs', () => {
    expect(graphError(() => validateGraph(model([n('a', 'Relu', ['x'], ['h'])]))).context.tensor).toBe('y');
    graphError(() => validateGraph(model([n('a', 'Relu', ['x'], ['y'])], ['x', 'x'])));
    graphError(() => validateGraph(model([n('a', 'Relu', ['x'], ['y'])], ['x'], ['y', 'y'])));
  });

  it('names the nodes of a cycle (and not the nodes outside it)', () => {
    const m = model([
      n('pre', 'Relu', ['x'], ['p']),
      n('A', 'Add', ['p', 'c'], ['a']),
      n('B', 'Relu', ['a'], ['b']),
      n('C', 'Relu', ['b'], ['c']),
      n('out', 'Relu', ['c'], ['y']),
    ]);
    const e = graphError(() => validateGraph(m));
    expect(e.message).toMatch(/cycle/);
    for (const k of ['A', 'B', 'C']) expect(e.message).toContain(k);
    expect(e.message).not.toContain('pre');
    expect(e.message).not.toMatch(/\bout\b/);
    // a node feeding itself
    expect(graphError(() => validateGraph(model([n('self', 'Add', ['x', 'y'], ['y'])]))).message).toContain('self');
  });

  it('decodeModel validates (and sorts) by default; validate:false skips it', () => {
    const bad = encodeModel(model([n('r', 'Relu', ['ghost'], ['y'])]));
    const e = graphError(() => decodeModel(bad, { file: 'bad.onnx' }));
    expect(e.context).toMatchObject({ file: 'bad.onnx', node: 'r', tensor: 'ghost' });
    expect(decodeModel(bad, { validate: false }).graph.nodes.length).toBe(1);
    const unsorted = encodeModel(model([n('b', 'Relu', ['h'], ['y']), n('a', 'Relu', ['x'], ['h'])]));
    expect(decodeModel(unsorted).graph.nodes.map((x) => x.name)).toEqual(['a', 'b']);
  });
});
