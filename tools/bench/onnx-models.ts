// ONNX bytes for the onnxruntime peers, written with edgenn's own ONNX encoder
// (importers/onnx/encode.ts) from the benchmark's shared weights, so both runtimes load exactly
// the numbers edgenn runs. It is NOT the general exporter (importers/onnx/export.ts): only the
// handful of graphs the benchmark needs.
//
// Dimensions: B batch, I in features, O out features.
//   MLP:       x (batch, I) → [Gemm(transB=1, w (O, I), b (O)) → Tanh|Relu]* → Gemm → y (batch, C)
//   GEMM fwd:  x (B, I) → MatMul(x, wᵀ (I, O)) → y (B, O)
//   GEMM bwd:  dy (B, O), x (B, I) → dx = MatMul(dy, w (O, I)) (B, I); dw = Gemm(dy, x, transA=1) (O, I)
import { encodeModel } from '../../importers/onnx/encode.js';
import { validateGraph } from '../../importers/onnx/validate.js';
import {
  OnnxDataType, type OnnxAttribute, type OnnxDim, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo,
} from '../../importers/onnx/model.js';
import type { GemmData, GemmKernel, MlpDef } from './models.js';

const OPSET = 13;
const IR_VERSION = 8;

function tensorInfo(name: string, shape: readonly OnnxDim[]): OnnxValueInfo {
  return { name, elemType: OnnxDataType.FLOAT, shape, type: { kind: 'tensor', elemType: OnnxDataType.FLOAT, shape } };
}

function floatTensor(name: string, dims: readonly number[], data: Float32Array): OnnxTensor {
  return { name, dataType: OnnxDataType.FLOAT, dims, data };
}

function node(name: string, opType: string, inputs: string[], outputs: string[],
              attrs: [string, OnnxAttribute][] = []): OnnxNode {
  return { name, opType, domain: 'ai.onnx', inputs, outputs, attributes: new Map(attrs) };
}

function model(name: string, nodes: OnnxNode[], initializers: OnnxTensor[],
               inputs: OnnxValueInfo[], outputs: OnnxValueInfo[]): Uint8Array {
  const m: OnnxModel = {
    irVersion: IR_VERSION,
    opsetImports: new Map([['ai.onnx', OPSET]]),
    producerName: 'edgenn-bench',
    producerVersion: '0',
    domain: '',
    modelVersion: 1,
    docString: '',
    graph: { name, nodes, initializers: new Map(initializers.map((t) => [t.name, t])), inputs, outputs, valueInfo: [] },
    metadata: new Map(),
  };
  return encodeModel(validateGraph(m));
}

/** The MLP with a dynamic batch dimension; input 'x', output 'y'. */
export function mlpOnnx(def: MlpDef): Uint8Array {
  const sizes = def.spec.sizes;
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  let h = 'x';
  const L = sizes.length - 1;
  for (let l = 0; l < L; l++) {
    const I = sizes[l]!, O = sizes[l + 1]!;
    inits.push(floatTensor(`w${l}`, [O, I], def.weights[l]!), floatTensor(`b${l}`, [O], def.biases[l]!));
    const last = l === L - 1;
    const z = last ? 'y' : `z${l}`;
    nodes.push(node(`gemm${l}`, 'Gemm', [h, `w${l}`, `b${l}`], [z], [['transB', { type: 'int', value: 1 }]]));
    if (!last) {
      const act = def.spec.activation === 'tanh' ? 'Tanh' : 'Relu';
      nodes.push(node(`${act.toLowerCase()}${l}`, act, [z], [`h${l}`]));
      h = `h${l}`;
    }
  }
  return model(`mlp-${def.spec.name}`, nodes, inits,
    [tensorInfo('x', ['batch', sizes[0]!])], [tensorInfo('y', ['batch', sizes[L]!])]);
}

/** GEMM graphs with static shapes (see header); inputs 'x' (fwd) or 'dy', 'x' (bwd). */
export function gemmOnnx(d: GemmData, kernel: GemmKernel): Uint8Array {
  const { B, I, O } = d.shape;
  if (kernel === 'fwd') {
    // MatMul wants (I, O): transpose once here, as an exporter would store it
    const wt = new Float32Array(I * O);
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) wt[i * O + o] = d.w[o * I + i]!;
    return model('gemm-fwd', [node('mm', 'MatMul', ['x', 'wt'], ['y'])], [floatTensor('wt', [I, O], wt)],
      [tensorInfo('x', [B, I])], [tensorInfo('y', [B, O])]);
  }
  return model('gemm-bwd',
    [node('dx', 'MatMul', ['dy', 'w'], ['dx']),
     node('dw', 'Gemm', ['dy', 'x'], ['dw'], [['transA', { type: 'int', value: 1 }]])],
    [floatTensor('w', [O, I], d.w)],
    [tensorInfo('dy', [B, O]), tensorInfo('x', [B, I])],
    [tensorInfo('dx', [B, I]), tensorInfo('dw', [O, I])]);
}
