// The qat_model reference cases' model in edgenn: QuantStub -> Linear -> ReLU -> Linear ->
// DeQuantStub built with the case's initial weights, prepared with the case's qconfig, compiled for
// full-batch SGD(lr 0.1) on cross-entropy. Shared by the QAT tests (not a test file itself).
import { f32, type RefCase } from '../../helpers/reference.js';
import { GraphBuilder } from '../../../runtime/graph/builder.js';
import { compile, type Model } from '../../../runtime/model.js';
import { prepareQat, type QatConfig } from '../../../runtime/quant/qat.js';

interface SiteSpec { quant_min: number; quant_max: number; symmetric: boolean; ch_axis: number | null; averaging_constant: number; reduce_range: boolean }
/** PyTorch module names -> edgenn site names (QuantStub is the first layer's input site) */
export const SITE_NAMES: Record<string, string> = {
  'quant.activation_post_process': 'fc1.input_fake_quant',
  'fc1.weight_fake_quant': 'fc1.weight_fake_quant',
  'fc1.activation_post_process': 'fc1.activation_post_process',
  'fc2.weight_fake_quant': 'fc2.weight_fake_quant',
  'fc2.activation_post_process': 'fc2.activation_post_process',
};

/** The case's qconfig as a QatConfig. */
export function configOf(c: RefCase): QatConfig {
  const specs = c.params['fake_quant_modules'] as Record<string, SiteSpec>;
  const w = specs['fc1.weight_fake_quant']!, x = specs['quant.activation_post_process']!;
  return {
    weights: { signed: w.quant_min < 0, symmetric: w.symmetric, perChannel: w.ch_axis !== null, reduceRange: w.reduce_range },
    activations: { signed: x.quant_min < 0, symmetric: x.symmetric, reduceRange: x.reduce_range },
    observer: 'moving-average', averagingConstant: x.averaging_constant, rule: 'fused',
    fuseRelu: c.params['fused_linear_relu'] === true,
  };
}

export function buildQatCase(c: RefCase, batch: number): Model {
  const [I, H, O] = c.params['layer_sizes'] as [number, number, number];
  const b = new GraphBuilder();
  const x = b.input('input', [I]);
  const h = b.dense(x, H, { name: 'fc1', weight: f32(c.inputs['init.fc1.weight']!), biasData: f32(c.inputs['init.fc1.bias']!) });
  const y = b.dense(b.relu(h, 'relu1'), O, { name: 'fc2', weight: f32(c.inputs['init.fc2.weight']!), biasData: f32(c.inputs['init.fc2.bias']!) });
  b.output(y, 'output');
  const g = prepareQat(b.build(), configOf(c));
  return compile(g, { maxBatch: batch, loss: { kind: 'cross-entropy' }, optimizer: { kind: 'sgd', lr: 0.1 } });
}

