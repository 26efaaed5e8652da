// Op rules for the layers: Gemm, MatMul, Conv (1-D, 2-D), BatchNormalization (inference),
// Softmax, LogSoftmax. Weights from initializers become trainable parameters in PyTorch's layout:
// Gemm with transB = 1 keeps its [out, in] weight as is; MatMul weights [in, out] and Gemm
// transB = 0 weights are transposed at import (export writes them back). MatMul followed by an
// Add of a 1-D initializer (PyTorch's lowering of nn.Linear over 3-D inputs) becomes one dense
// layer with a bias. Softmax before opset 13 coerces the input to 2-D at `axis`, from 13 on it
// works along `axis`.
import { OnnxDataType } from '../model.js';
import { isFloatElem, type ConstSym, type Lowering, type Sym } from '../import-context.js';
import { UnaryFn } from '../../../runtime/ops/unary.js';
import { BinaryFn } from '../../../runtime/ops/binary.js';
import { BATCH } from '../../../runtime/graph/graph.js';
import type { ValueId } from '../../../runtime/graph/builder.js';
import { reshapeTo } from './shape.js';
import { SYM_BATCH } from '../import-context.js';
import { rule, type OpRule } from './rule.js';

function floats(ctx: Lowering, ...xs: (Sym | undefined)[]): void {
  xs.forEach((x, i) => { if (x !== undefined) ctx.needElem(x, isFloatElem, `${ctx.node!.opType} input`, ctx.inputName(i)); });
}

/** a const weight of a runtime input: a dense / conv layer (a parameter when it is an initializer) */
const isParamCandidate = (ctx: Lowering, s: Sym | undefined, x: Sym): s is ConstSym =>
  !ctx.folding && s !== undefined && s.kind === 'const' && !s.symbolic && x.kind === 'value';

/** beta * C added to y (C broadcast); C const is scaled at import, a runtime C by a Mul */
function addScaled(ctx: Lowering, y: ValueId, c: Sym, beta: number): ValueId {
  if (beta === 0) return y;
  let cv: ValueId;
  if (beta === 1) cv = ctx.value(c);
  else if (c.kind === 'const') cv = ctx.value(ctx.makeConst(c.elem, c.dims, Array.from(c.data, (v) => v * beta)));
  else cv = ctx.b.binary(BinaryFn.Mul, ctx.value(c), ctx.scalar(beta), `${ctx.label}:beta`);
  return ctx.b.binary(BinaryFn.Add, y, cv, `${ctx.label}:bias`);
}

function gemm(ctx: Lowering): void {
  const A = ctx.input(0), B = ctx.input(1), C = ctx.maybe(2);
  floats(ctx, A, B, C);
  const alpha = ctx.attrFloat('alpha', 1), beta = ctx.attrFloat('beta', 1);
  const transA = ctx.attrInt('transA', 0) === 1, transB = ctx.attrInt('transB', 0) === 1;
  if (ctx.dims(A).length !== 2 || ctx.dims(B).length !== 2) {
    throw ctx.error('SHAPE', 'Gemm takes 2-D A and B', { actual: `A [${ctx.dims(A).join(', ')}], B [${ctx.dims(B).join(', ')}]` });
  }
  let y: ValueId;
  if (isParamCandidate(ctx, B, A)) {
    const w = ctx.weight(1, !transB);
    const N = ctx.b.value(w).dims[0]!;
    const a = transA ? ctx.b.transpose(ctx.value(A), [1, 0], `${ctx.label}:transA`) : ctx.value(A);
    // a 1-D C [N] is the layer's (trainable) bias; any other C is added with broadcasting
    const biasLike = C !== undefined && C.kind === 'const' && C.initializer !== undefined && alpha === 1 && beta === 1 &&
      C.dims.length === 1 && C.dims[0] === N;
    const bias: ValueId = biasLike ? ctx.weight(2) : -1;
    y = ctx.b.linear(a, w, bias, ctx.label);
    ctx.layer('Gemm', [w, bias]);
    if (alpha !== 1) y = ctx.b.binary(BinaryFn.Mul, y, ctx.scalar(alpha), `${ctx.label}:alpha`);
    if (C !== undefined && bias < 0) y = addScaled(ctx, y, C, beta);
  } else {
    y = ctx.b.matmul(ctx.value(A), ctx.value(B), { transA, transB, alpha }, ctx.label);
    if (C !== undefined) y = addScaled(ctx, y, C, beta);
  }
  ctx.outValue(0, y, A.elem);
}

function matmul(ctx: Lowering): void {
  const A = ctx.input(0), B = ctx.input(1);
  floats(ctx, A, B);
  if (isParamCandidate(ctx, B, A) && B.dims.length === 2 && ctx.dims(A).length >= 1) {
    const N = B.dims[1]!;
    // MatMul + Add(1-D initializer [N]) -> one dense layer with a bias
    const out = ctx.node!.outputs[0]!;
    const cons = ctx.consumers.get(out) ?? [];
    const add = cons.length === 1 && cons[0]!.opType === 'Add' && !ctx.graphOutputs.has(out) ? cons[0]! : undefined;
    const other = add === undefined ? undefined : add.inputs[0] === out ? add.inputs[1] : add.inputs[0];
    const bs = other === undefined ? undefined : ctx.lookup(other);
    const fuse = add !== undefined && add.inputs.length === 2 && bs !== undefined && bs.kind === 'const' && bs.initializer !== undefined &&
      bs.elem === A.elem && bs.dims.length === 1 && bs.dims[0] === N;
    const w = ctx.weight(1, true);
    let bias: ValueId = -1;
    if (fuse) bias = ctx.weightOf(bs);
    const y = ctx.b.linear(ctx.value(A), w, bias, ctx.label);
    ctx.layer('MatMul', [w, bias]);
    ctx.outValue(0, y, A.elem);
    if (fuse) {
      ctx.fused.add(add);
      ctx.syms.set(add.outputs[0]!, { kind: 'value', id: y, elem: A.elem });
    }
    return;
  }
  ctx.outValue(0, ctx.b.matmul(ctx.value(A), ctx.value(B), {}, ctx.label), A.elem);
}

function conv(ctx: Lowering): void {
  const X = ctx.input(0), W = ctx.input(1), Bs = ctx.maybe(2);
  floats(ctx, X, W, Bs);
  const wd = ctx.dims(W), xd = ctx.dims(X);
  const sp = wd.length - 2;
  if (sp !== 1 && sp !== 2) throw ctx.error('UNSUPPORTED', `Conv with ${sp} spatial dims (1-D and 2-D are supported)`);
  if (xd.length !== sp + 2) throw ctx.error('SHAPE', 'Conv input rank does not match the weight', { actual: `x [${xd.join(', ')}], w [${wd.join(', ')}]` });
  const ks = ctx.attrInts('kernel_shape');
  if (ks !== undefined && (ks.length !== sp || ks.some((k, i) => k !== wd[i + 2]))) {
    throw ctx.error('SHAPE', 'Conv kernel_shape contradicts the weight', { expected: `[${wd.slice(2).join(', ')}]`, actual: `[${ks.join(', ')}]` });
  }
  const strides = ctx.attrInts('strides') ?? new Array(sp).fill(1);
  const dil = ctx.attrInts('dilations') ?? new Array(sp).fill(1);
  const group = ctx.attrInt('group', 1);
  if (strides.length !== sp || dil.length !== sp) throw ctx.error('SHAPE', 'Conv strides/dilations of the wrong length');
  const autoPad = ctx.attrString('auto_pad', 'NOTSET');
  let pads: number[];
  if (autoPad === 'NOTSET') {
    pads = ctx.attrInts('pads') ?? new Array(2 * sp).fill(0);
    if (pads.length !== 2 * sp) throw ctx.error('SHAPE', 'Conv pads of the wrong length', { expected: String(2 * sp), actual: String(pads.length) });
  } else if (autoPad === 'VALID') {
    pads = new Array(2 * sp).fill(0);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const begin: number[] = [], end: number[] = [];
    for (let i = 0; i < sp; i++) {
      const L = xd[i + 2]!, K = wd[i + 2]!, s = strides[i]!, d = dil[i]!;
      const total = Math.max(0, (Math.ceil(L / s) - 1) * s + (K - 1) * d + 1 - L);
      const small = Math.floor(total / 2);
      begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      end.push(autoPad === 'SAME_UPPER' ? total - small : small);
    }
    pads = [...begin, ...end];
  } else {
    throw ctx.error('UNSUPPORTED', `Conv auto_pad='${autoPad}'`);
  }
  let w: ValueId, b: ValueId = -1;
  if (isParamCandidate(ctx, W, X)) {
    w = ctx.weight(1);
    if (Bs !== undefined) b = Bs.kind === 'const' && Bs.initializer !== undefined ? ctx.weight(2) : ctx.value(Bs);
    ctx.layer('Conv', [w, b]);
  } else {
    w = ctx.value(W);
    if (Bs !== undefined) b = ctx.value(Bs);
  }
  const two = sp === 2;
  const y = ctx.b.conv(ctx.value(X), w, b, {
    strides: two ? [strides[0]!, strides[1]!] : [1, strides[0]!],
    pads: two ? [pads[0]!, pads[1]!, pads[2]!, pads[3]!] : [0, pads[0]!, 0, pads[1]!],
    dilations: two ? [dil[0]!, dil[1]!] : [1, dil[0]!],
    group,
  }, ctx.label);
  ctx.outValue(0, y, X.elem);
}

function batchNorm(ctx: Lowering): void {
  const X = ctx.input(0);
  const [scale, bias, mean, v] = [1, 2, 3, 4].map((i) => ctx.input(i)) as [Sym, Sym, Sym, Sym];
  floats(ctx, X, scale, bias, mean, v);
  if (ctx.attrInt('training_mode', 0) === 1 || [1, 2, 3, 4].some((i) => ctx.wants(i))) {
    throw ctx.error('UNSUPPORTED', 'BatchNormalization in training mode (running statistics outputs)');
  }
  const eps = ctx.attrFloat('epsilon', 1e-5);
  const xd = ctx.dims(X);
  if (xd.length < 2 || xd[1] === BATCH) throw ctx.error('SHAPE', 'BatchNormalization input must be [N, C, ...]', { actual: `[${xd.join(', ')}]` });
  const C = xd[1]!;
  const pdims = [C, ...new Array(xd.length - 2).fill(1)];
  for (const [s, i] of [[scale, 1], [bias, 2], [mean, 3], [v, 4]] as const) {
    const d = ctx.dims(s);
    if (d.length !== 1 || d[0] !== C) throw ctx.error('SHAPE', 'BatchNormalization parameter must be [C]', { tensor: ctx.inputName(i), expected: `[${C}]`, actual: `[${d.join(', ')}]` });
  }
  const x = ctx.value(X);
  if (scale.kind === 'const' && bias.kind === 'const' && mean.kind === 'const' && v.kind === 'const') {
    // y = x * s + t with s = scale / sqrt(var + eps), t = B - mean * s (folded at import)
    const s = new Float32Array(C), t = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      s[c] = scale.data[c]! / Math.sqrt(v.data[c]! + eps);
      t[c] = bias.data[c]! - mean.data[c]! * s[c]!;
    }
    const m = ctx.b.binary(BinaryFn.Mul, x, ctx.value(ctx.makeConst(OnnxDataType.FLOAT, pdims, s)), `${ctx.label}:scale`);
    ctx.outValue(0, ctx.b.binary(BinaryFn.Add, m, ctx.value(ctx.makeConst(OnnxDataType.FLOAT, pdims, t)), ctx.label), X.elem);
    return;
  }
  const r = (s: Sym): ValueId => ctx.value(reshapeTo(ctx, s, pdims, true));
  const centered = ctx.b.binary(BinaryFn.Sub, x, r(mean), `${ctx.label}:center`);
  const std = ctx.b.math(UnaryFn.Sqrt, ctx.b.math(UnaryFn.Scale, r(v), 1, eps, `${ctx.label}:eps`), 0, 0, `${ctx.label}:std`);
  const norm = ctx.b.binary(BinaryFn.Div, centered, std, `${ctx.label}:norm`);
  const scaled = ctx.b.binary(BinaryFn.Mul, norm, r(scale), `${ctx.label}:scale`);
  ctx.outValue(0, ctx.b.binary(BinaryFn.Add, scaled, r(bias), ctx.label), X.elem);
}

function softmaxRule(log: boolean) {
  return (ctx: Lowering): void => {
    const X = ctx.input(0);
    floats(ctx, X);
    const full = ctx.dims(X);
    const r = full.length;
    const batched = ctx.batched(X);
    let axis = ctx.attrInt('axis', ctx.opset >= 13 ? -1 : 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) throw ctx.error('SHAPE', 'softmax axis out of range', { expected: `in [${-r}, ${r - 1}]`, actual: String(ctx.attrInt('axis', 0)) });
    if (batched && axis === 0) throw ctx.error('UNSUPPORTED', 'softmax along (or from) the batch dimension');
    const apply = (x: ValueId, a: number): ValueId => (log ? ctx.b.logSoftmax(x, a, ctx.label) : ctx.b.softmax(x, a, ctx.label));
    const x = ctx.value(X);
    const ps = batched ? axis - 1 : axis;
    if (ctx.opset >= 13 || axis === r - 1) { ctx.outValue(0, apply(x, ps), X.elem); return; }
    // opset < 13: softmax over the flattened dims from `axis` on, then back to the input's shape
    const prod = (d: readonly number[]): number => d.reduce((p, q) => p * q, 1);
    const inner = prod(full.slice(axis));
    const twoD = batched ? [SYM_BATCH, prod(full.slice(1, axis)), inner] : [prod(full.slice(0, axis)), inner];
    const flat = reshapeTo(ctx, { kind: 'value', id: x, elem: X.elem }, twoD, true);
    const y = apply(ctx.value(flat), -1);
    ctx.out(0, reshapeTo(ctx, { kind: 'value', id: y, elem: X.elem }, full.map((d) => (d === BATCH ? SYM_BATCH : d)), true));
  };
}

export const NN_RULES: readonly OpRule[] = [
  rule('Gemm', gemm, { since: 7 }),
  rule('MatMul', matmul),
  rule('Conv', conv),
  rule('BatchNormalization', batchNorm, { since: 7 }),
  rule('Softmax', softmaxRule(false)),
  rule('LogSoftmax', softmaxRule(true)),
];
