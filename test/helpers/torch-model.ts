// Builds edgenn layer specs from a reference case's `layers` (PyTorch module descriptions) and
// its recorded weights, so a test runs exactly the model PyTorch ran.
import type { LayerSpec } from '../../runtime/graph/sequential.js';
import { f32, type RefCase, type RefTensor } from './reference.js';

export function torchLayers(c: RefCase, weights: Record<string, RefTensor>, prefix = ''): LayerSpec[] {
  return (c.layers ?? []).map((l): LayerSpec => {
    const w = (k: unknown): number[] | undefined =>
      typeof k === 'string' && weights[prefix + k] !== undefined ? Array.from(f32(weights[prefix + k]!)) : undefined;
    switch (l['type']) {
      case 'Linear': return { type: 'dense', out: l['out_features'] as number, weight: w(l['weight']), biasData: w(l['bias']), bias: l['bias'] !== undefined && l['bias'] !== null };
      case 'Conv1d': return { type: 'conv1d', out: l['out_channels'] as number, kernel: l['kernel_size'] as number,
        stride: (l['stride'] as number | undefined) ?? 1, padding: (l['padding'] as number | undefined) ?? 0,
        dilation: (l['dilation'] as number | undefined) ?? 1, weight: w(l['weight']), biasData: w(l['bias']) };
      case 'ReLU': return { type: 'relu' };
      case 'Tanh': return { type: 'tanh' };
      case 'Sigmoid': return { type: 'sigmoid' };
      case 'Softplus': return { type: 'softplus', beta: l['beta'] as number, threshold: l['threshold'] as number };
      case 'LeakyReLU': return { type: 'leaky_relu', negativeSlope: l['negative_slope'] as number };
      case 'Flatten': return { type: 'flatten' };
      default: throw new Error(`test helper: unknown torch layer ${String(l['type'])}`);
    }
  });
}
