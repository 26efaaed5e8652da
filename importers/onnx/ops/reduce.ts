// Op rules for reductions: ReduceSum and ReduceMean (axes as an attribute before opset 13 / 18,
// as an optional input after; noop_with_empty_axes), ArgMax (keepdims, select_last_index).
// Float inputs only (edge models reduce activations).
import { OnnxDataType } from '../model.js';
import { isFloatElem, type Lowering } from '../import-context.js';
import { ReduceFn } from '../../../runtime/ops/reduce.js';
import { BATCH } from '../../../runtime/graph/graph.js';
import { rule, type OpRule } from './rule.js';

function reduceRule(fn: number, inputSince: number) {
  return (ctx: Lowering): void => {
    const X = ctx.input(0);
    ctx.needElem(X, isFloatElem, `${ctx.node!.opType} input`, ctx.inputName(0));
    let axes: number[] | undefined;
    if (ctx.opset < inputSince) axes = ctx.attrInts('axes');
    else if (ctx.maybe(1) !== undefined) axes = ctx.ints(ctx.constInput(1, 'axes'), 'axes');
    const keep = ctx.attrInt('keepdims', 1) === 1;
    const full = ctx.dims(X);
    if (axes === undefined || axes.length === 0) {
      if (ctx.attrInt('noop_with_empty_axes', 0) === 1 && ctx.opset >= inputSince) { ctx.out(0, X); return; }
      axes = full.map((_, i) => i);
    }
    if (axes.some((a) => full[a < 0 ? a + full.length : a] === BATCH)) {
      throw ctx.error('UNSUPPORTED', `${ctx.node!.opType} over the batch dimension`);
    }
    ctx.outValue(0, ctx.b.reduce(fn, ctx.value(X), axes, keep, ctx.label), X.elem);
  };
}

function argmax(ctx: Lowering): void {
  const X = ctx.input(0);
  ctx.needElem(X, isFloatElem, 'ArgMax input', ctx.inputName(0));
  const id = ctx.b.argmax(ctx.value(X), ctx.attrInt('axis', 0), ctx.attrInt('keepdims', 1) === 1,
    ctx.attrInt('select_last_index', 0) === 1, ctx.label);
  ctx.outValue(0, id, OnnxDataType.INT64);
}

export const REDUCE_RULES: readonly OpRule[] = [
  rule('ReduceSum', reduceRule(ReduceFn.Sum, 13), { constInputs: [1] }),
  rule('ReduceMean', reduceRule(ReduceFn.Mean, 18), { constInputs: [1] }),
  rule('ArgMax', argmax),
];
