// Op rules for the ONNX training losses as graph ops: NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss (= LogSoftmax along the class axis 1 + NLL; its optional second output
// is the log-probabilities). reduction none | sum | mean (weighted mean), ignore_index.
import { OnnxDataType } from '../model.js';
import { isFloatElem, type Lowering } from '../import-context.js';
import type { ValueId } from '../../../runtime/graph/builder.js';
import { rule, type OpRule } from './rule.js';

function nll(ctx: Lowering, logp: ValueId, elem: OnnxDataType): void {
  const target = ctx.input(1), w = ctx.maybe(2);
  ctx.needElem(target, (e) => e === OnnxDataType.INT64 || e === OnnxDataType.INT32, 'loss target', ctx.inputName(1));
  if (w !== undefined) ctx.needElem(w, isFloatElem, 'loss weight', ctx.inputName(2));
  const red = ctx.attrString('reduction', 'mean');
  if (red !== 'none' && red !== 'sum' && red !== 'mean') throw ctx.error('UNSUPPORTED', `loss reduction '${red}'`);
  const ii = ctx.attrAny('ignore_index') === undefined ? null : ctx.attrInt('ignore_index', 0);
  const y = ctx.b.nllLoss(logp, ctx.value(target), w === undefined ? -1 : ctx.value(w), red, ii, ctx.label);
  ctx.outValue(0, y, elem);
}

function nllRule(ctx: Lowering): void {
  const x = ctx.input(0);
  ctx.needElem(x, isFloatElem, 'NegativeLogLikelihoodLoss input', ctx.inputName(0));
  nll(ctx, ctx.value(x), x.elem);
}

function sceRule(ctx: Lowering): void {
  const x = ctx.input(0);
  ctx.needElem(x, isFloatElem, 'SoftmaxCrossEntropyLoss scores', ctx.inputName(0));
  const xv = ctx.b.value(ctx.value(x));
  const logp = ctx.b.logSoftmax(ctx.value(x), xv.batched ? 0 : 1, `${ctx.label}:log_prob`);
  nll(ctx, logp, x.elem);
  if (ctx.wants(1)) ctx.outValue(1, logp, x.elem);
}

export const LOSS_RULES: readonly OpRule[] = [
  rule('NegativeLogLikelihoodLoss', nllRule, { since: 12 }),
  rule('SoftmaxCrossEntropyLoss', sceRule, { since: 12 }),
];
