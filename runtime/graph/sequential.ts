// Sequential models (like torch.nn.Sequential): a list of layer specs becomes a graph. Layer i's
// parameters are named `<i>.weight` / `<i>.bias`, the names PyTorch's state_dict uses, so
// weights move between edgenn and PyTorch by name. The JSON model format (importers/json-model)
// is exactly these specs.
import { EdgennError } from '../errors.js';
import { GraphBuilder, type ValueId } from './builder.js';
import type { Graph } from './graph.js';

export type LayerSpec =
  | { readonly type: 'dense'; readonly out: number; readonly bias?: boolean;
      readonly weight?: readonly number[]; readonly biasData?: readonly number[] }
  | { readonly type: 'conv1d'; readonly out: number; readonly kernel: number; readonly stride?: number;
      readonly padding?: number; readonly dilation?: number; readonly bias?: boolean;
      readonly weight?: readonly number[]; readonly biasData?: readonly number[] }
  | { readonly type: 'relu' | 'sigmoid' | 'tanh' | 'step' | 'sign' | 'flatten' }
  | { readonly type: 'leaky_relu'; readonly negativeSlope?: number }
  | { readonly type: 'softplus'; readonly beta?: number; readonly threshold?: number }
  | { readonly type: 'softmax' | 'log_softmax'; readonly axis?: number };

export type LayerType = LayerSpec['type'];
export const LAYER_TYPES: readonly LayerType[] = [
  'dense', 'conv1d', 'relu', 'sigmoid', 'tanh', 'step', 'sign', 'flatten', 'leaky_relu', 'softplus', 'softmax', 'log_softmax',
];

export interface SequentialOptions {
  /** name of the graph input (default 'input', as PyTorch's ONNX exports name it) */
  readonly inputName?: string;
  /** seed of the default parameter initialisation */
  readonly seed?: number;
}

/** Adds the layers after value x in builder g; returns the last value. */
export function addLayers(g: GraphBuilder, x: ValueId, layers: readonly LayerSpec[]): ValueId {
  let h = x;
  layers.forEach((l, i) => {
    const name = String(i);
    switch (l.type) {
      case 'dense':
        h = g.dense(h, l.out, { name, bias: l.bias, weight: l.weight, biasData: l.biasData });
        break;
      case 'conv1d':
        h = g.conv1d(h, l.out, l.kernel, { name, bias: l.bias, weight: l.weight, biasData: l.biasData,
          stride: l.stride, padding: l.padding, dilation: l.dilation });
        break;
      case 'relu': h = g.relu(h, name); break;
      case 'sigmoid': h = g.sigmoid(h, name); break;
      case 'tanh': h = g.tanh(h, name); break;
      case 'step': h = g.step(h, name); break;
      case 'sign': h = g.sign(h, name); break;
      case 'flatten': h = g.flatten(h, name); break;
      case 'leaky_relu': h = g.leakyRelu(h, l.negativeSlope ?? 0.01, name); break;
      case 'softplus': h = g.softplus(h, l.beta ?? 1, l.threshold ?? 20, name); break;
      case 'softmax': h = g.softmax(h, l.axis ?? -1, name); break;
      case 'log_softmax': h = g.logSoftmax(h, l.axis ?? -1, name); break;
      default: {
        const never: never = l;
        throw new EdgennError('ARG', `unknown layer type at layer ${i}`, { actual: JSON.stringify(never), expected: LAYER_TYPES.join(', ') });
      }
    }
  });
  return h;
}

/** A sequential graph over a batched input with per-sample dims `inputDims`. */
export function sequential(inputDims: readonly number[], layers: readonly LayerSpec[], o: SequentialOptions = {}): Graph {
  const g = new GraphBuilder(o.seed ?? 0);
  const x = g.input(o.inputName ?? 'input', inputDims);
  g.output(addLayers(g, x, layers));
  return g.build();
}
