// Op rules for ops that move or describe data without arithmetic: Reshape, Flatten, Squeeze,
// Unsqueeze, Transpose, Concat, Gather, Shape, Constant, ConstantOfShape, Cast, Identity, Dropout.
// Views of consts are taken at import (no graph node); Shape of a batched value is a symbolic
// const (SYM_BATCH for the batch entry) that Gather / Concat / Unsqueeze carry to a Reshape, which
// resolves it (the exporters' Shape -> Gather -> Unsqueeze -> Concat -> Reshape pattern).
// Identity and Dropout (inference) are aliases: they emit nothing.
import { OnnxDataType, dataTypeName, elementCount } from '../model.js';
import {
  SYM_BATCH, SUPPORTED_ELEMS, constFromTensor, isFloatElem, storageOfElem, wrapOfElem,
  type ConstSym, type Lowering, type Sym,
} from '../import-context.js';
import { BATCH } from '../../../runtime/graph/graph.js';
import { rule, type OpRule } from './rule.js';

const B = 'B' as const;
type Dim = number | typeof B;

/** Reshape x to an ONNX target shape (entries: n, 0 = copy (unless allowZero), -1 = infer, SYM_BATCH). */
export function reshapeTo(ctx: Lowering, x: Sym, target: readonly number[], allowZero: boolean): Sym {
  const inFull = ctx.dims(x);
  const batched = ctx.batched(x);
  const t: Dim[] = target.map((d, i) => {
    if (d === SYM_BATCH) return B;
    if (d === 0 && !allowZero) {
      if (i >= inFull.length) throw ctx.error('SHAPE', 'reshape copies a dim the input does not have', { expected: `rank >= ${i + 1}`, actual: `rank ${inFull.length}` });
      return inFull[i] === BATCH ? B : inFull[i]!;
    }
    if (!Number.isInteger(d) || d < -1) throw ctx.error('SHAPE', 'reshape target has an invalid dim', { actual: `[${target.join(', ')}]` });
    return d;
  });
  if (t.filter((d) => d === -1).length > 1) throw ctx.error('SHAPE', 'reshape target has more than one -1', { actual: `[${target.join(', ')}]` });
  const total = inFull.filter((d) => d !== BATCH).reduce((p, q) => p * q, 1);
  const fmtT = `[${t.join(', ')}]`;
  let rest: Dim[];
  if (batched) {
    if (t.length === 0 || (t[0] !== B && t[0] !== -1) || t.slice(1).includes(B)) {
      throw ctx.error('UNSUPPORTED', 'reshape would mix the batch dimension with other dims', { expected: '[batch, ...] or [-1, ...] keeping the batch first', actual: fmtT });
    }
    if (t[0] === -1 && t.slice(1).includes(-1)) throw ctx.error('SHAPE', 'reshape target leaves both the batch and another dim unknown', { actual: fmtT });
    rest = t.slice(1);
  } else {
    if (t.includes(B)) throw ctx.error('SHAPE', 'reshape of a fixed-shape value to a batch-sized dim', { actual: fmtT });
    rest = t;
  }
  const known = (rest.filter((d) => d !== -1) as number[]).reduce((p, q) => p * q, 1);
  const dims = rest.map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d)) as number[];
  if (dims.some((d) => !Number.isInteger(d)) || dims.reduce((p, q) => p * q, 1) !== total) {
    throw ctx.error('SHAPE', 'reshape must keep the number of elements', { expected: `${total} elements${batched ? ' per sample' : ''}`, actual: fmtT });
  }
  if (x.kind === 'const') return { ...x, dims };
  return { kind: 'value', id: ctx.b.reshape(x.id, dims, ctx.label), elem: x.elem };
}

function reshape(ctx: Lowering): void {
  const x = ctx.input(0);
  const shape = ctx.opset < 5 ? ctx.attrInts('shape') : ctx.ints(ctx.constInput(1, 'Reshape shape'), 'shape', true);
  if (shape === undefined) throw ctx.error('DATA', 'Reshape without a shape');
  ctx.out(0, reshapeTo(ctx, x, shape, ctx.attrInt('allowzero', 0) === 1));
}

function flatten(ctx: Lowering): void {
  const x = ctx.input(0);
  const full = ctx.dims(x);
  let axis = ctx.attrInt('axis', 1);
  if (axis < 0) axis += full.length;
  if (axis < 0 || axis > full.length) throw ctx.error('SHAPE', 'Flatten axis out of range', { actual: String(ctx.attrInt('axis', 1)) });
  const prod = (d: readonly number[]): number => d.reduce((p, q) => p * q, 1);
  if (ctx.batched(x)) {
    if (axis === 0 || prod(full.slice(1, axis)) !== 1) throw ctx.error('UNSUPPORTED', 'Flatten would mix the batch dimension with other dims', { actual: `axis ${axis}` });
    ctx.out(0, reshapeTo(ctx, x, [SYM_BATCH, prod(full.slice(axis))], false));
    return;
  }
  ctx.out(0, reshapeTo(ctx, x, [prod(full.slice(0, axis)), prod(full.slice(axis))], true));
}

function axesOf(ctx: Lowering, inputIndex: number): number[] | undefined {
  if (ctx.opset < 13) return ctx.attrInts('axes');
  const s = ctx.maybe(inputIndex);
  return s === undefined ? undefined : ctx.ints(ctx.constInput(inputIndex, 'axes'), 'axes');
}

function normAxes(ctx: Lowering, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => (a < 0 ? a + rank : a));
  if (out.some((a) => !Number.isInteger(a) || a < 0 || a >= rank) || new Set(out).size !== out.length) {
    throw ctx.error('SHAPE', 'axes out of range or repeated', { expected: `distinct in [${-rank}, ${rank - 1}]`, actual: `[${axes.join(', ')}]` });
  }
  return out;
}

function squeeze(ctx: Lowering): void {
  const x = ctx.input(0);
  const full = ctx.dims(x);
  const given = axesOf(ctx, 1);
  const axes = given === undefined ? full.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0) : normAxes(ctx, given, full.length);
  for (const a of axes) {
    if (full[a] === BATCH) throw ctx.error('UNSUPPORTED', 'Squeeze of the batch dimension');
    if (full[a] !== 1) throw ctx.error('SHAPE', `Squeeze of axis ${a} whose size is not 1`, { actual: `[${full.join(', ')}]` });
  }
  const out = full.filter((_, i) => !axes.includes(i));
  ctx.out(0, reshapeTo(ctx, x, out.map((d) => (d === BATCH ? SYM_BATCH : d)), true));
}

function unsqueeze(ctx: Lowering): void {
  const x = ctx.input(0);
  const full = ctx.dims(x);
  const given = axesOf(ctx, 1);
  if (given === undefined) throw ctx.error('DATA', 'Unsqueeze without axes');
  const rank = full.length + given.length;
  const axes = normAxes(ctx, given, rank);
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : full[k++]!);
  if (ctx.batched(x) && out[0] !== BATCH) throw ctx.error('UNSUPPORTED', 'Unsqueeze in front of the batch dimension');
  ctx.out(0, reshapeTo(ctx, x, out.map((d) => (d === BATCH ? SYM_BATCH : d)), true));
}

function transpose(ctx: Lowering): void {
  const x = ctx.input(0);
  const r = ctx.dims(x).length;
  const perm = ctx.attrInts('perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  ctx.outValue(0, ctx.b.transpose(ctx.value(x), perm, ctx.label), x.elem);
}

function concat(ctx: Lowering): void {
  const xs = ctx.node!.inputs.map((_, i) => ctx.input(i));
  const elem = xs[0]!.elem;
  if (xs.some((s) => s.elem !== elem)) throw ctx.error('DATA', 'Concat inputs of different types');
  const axis = ctx.attrInt('axis', Number.NaN);
  if (Number.isNaN(axis)) throw ctx.error('DATA', 'Concat without axis');
  // NOTE: empty inputs (a 0-sized dim along the axis) contribute nothing; skip them
  const rank = ctx.dims(xs[0]!).length;
  const ax = axis < 0 ? axis + rank : axis;
  const used = xs.filter((s) => ctx.dims(s)[ax] !== 0);
  const list = used.length > 0 ? used : [xs[0]!];
  ctx.outValue(0, ctx.b.concat(list.map((s) => ctx.value(s)), axis, ctx.label), elem);
}

function gather(ctx: Lowering): void {
  const x = ctx.input(0), ind = ctx.input(1);
  ctx.needElem(ind, (e) => e === OnnxDataType.INT64 || e === OnnxDataType.INT32, 'Gather indices', ctx.inputName(1));
  const full = ctx.dims(x);
  let axis = ctx.attrInt('axis', 0);
  if (axis < 0) axis += full.length;
  if (ind.kind === 'const' && axis >= 0 && axis < full.length && full[axis] !== BATCH) {
    const D = full[axis]!;
    for (const i of ind.data) {
      if (i < -D || i >= D) throw ctx.error('DATA', `Gather index ${i} out of range`, { tensor: ctx.inputName(1), expected: `in [${-D}, ${D - 1}]` });
    }
  }
  ctx.outValue(0, ctx.b.gather(ctx.value(x), ctx.value(ind), axis, ctx.label), x.elem);
}

function shape(ctx: Lowering): void {
  const x = ctx.input(0);
  const full = ctx.dims(x);
  const r = full.length;
  const clamp = (v: number): number => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  const start = clamp(ctx.attrInt('start', 0));
  const end = clamp(ctx.attrInt('end', r));
  const dims = full.slice(start, Math.max(start, end)).map((d) => (d === BATCH ? SYM_BATCH : d));
  ctx.out(0, ctx.makeConst(OnnxDataType.INT64, [dims.length], dims, true));
}

function constant(ctx: Lowering): void {
  const node = ctx.node!;
  const names = [...node.attributes.keys()];
  if (names.length !== 1) throw ctx.error('DATA', 'Constant needs exactly one value attribute', { actual: names.join(', ') || 'none' });
  const a = node.attributes.get(names[0]!)!;
  switch (names[0]) {
    case 'value':
      if (a.type !== 'tensor') throw ctx.error('DATA', 'Constant value must be a tensor');
      ctx.out(0, constFromTensor(a.value, ctx.opts.maxElements, ctx.opts.file));
      return;
    case 'value_float': ctx.out(0, ctx.makeConst(OnnxDataType.FLOAT, [], [ctx.attrFloat('value_float', 0)])); return;
    case 'value_floats': {
      if (a.type !== 'floats') throw ctx.error('DATA', 'value_floats must be floats');
      ctx.out(0, ctx.makeConst(OnnxDataType.FLOAT, [a.value.length], a.value));
      return;
    }
    case 'value_int': ctx.out(0, ctx.makeConst(OnnxDataType.INT64, [], [checkInt32(ctx, ctx.attrInt('value_int', 0))])); return;
    case 'value_ints': {
      const v = ctx.attrInts('value_ints')!;
      ctx.out(0, ctx.makeConst(OnnxDataType.INT64, [v.length], v.map((q) => checkInt32(ctx, q))));
      return;
    }
    default:
      throw ctx.error('UNSUPPORTED', `Constant with attribute ${names[0]}`);
  }
}

function checkInt32(ctx: Lowering, v: number): number {
  if (v < -2147483647 || v > 2147483647) throw ctx.error('UNSUPPORTED', `int64 value ${v} does not fit in int32`);
  return v;
}

function constantOfShape(ctx: Lowering): void {
  const dims = ctx.ints(ctx.constInput(0, 'ConstantOfShape shape'), 'shape');
  if (dims.some((d) => d < 0)) throw ctx.error('SHAPE', 'ConstantOfShape with a negative dim', { actual: `[${dims.join(', ')}]` });
  const a = ctx.attrAny('value');
  let elem: OnnxDataType = OnnxDataType.FLOAT, v = 0;
  if (a !== undefined) {
    if (a.type !== 'tensor' || a.value.data.length !== 1) throw ctx.error('DATA', 'ConstantOfShape value must be a one-element tensor');
    const c = constFromTensor(a.value, 1, ctx.opts.file);
    elem = c.elem;
    v = c.data[0]!;
  }
  const n = elementCount(dims);
  if (n > ctx.opts.maxElements) throw ctx.error('LIMIT', 'ConstantOfShape larger than the import limit', { actual: `[${dims.join(', ')}]` });
  const data = isFloatElem(elem) ? new Float32Array(n).fill(v) : new Int32Array(n).fill(v);
  ctx.out(0, { kind: 'const', elem, dims, data, symbolic: false });
}

function cast(ctx: Lowering): void {
  const x = ctx.input(0);
  const to = ctx.attrInt('to', -1);
  if (!SUPPORTED_ELEMS.has(to)) throw ctx.error('UNSUPPORTED', `Cast to ${dataTypeName(to)}`, { expected: 'float32, float64, int64, int32, int8, uint8 or bool' });
  ctx.needElem(x, (e) => SUPPORTED_ELEMS.has(e), 'Cast from', ctx.inputName(0));
  const toElem = to as OnnxDataType;
  const fromS = storageOfElem(x.elem), toS = storageOfElem(toElem);
  // int64 and int32 cells hold every value of the narrower integer types: no work to do
  const widens = toElem === x.elem || (fromS === 'i32' && (toElem === OnnxDataType.INT64 || toElem === OnnxDataType.INT32));
  if ((fromS === 'f32' && toS === 'f32') || widens) {
    ctx.out(0, x.kind === 'const' ? { ...x, elem: toElem } : { kind: 'value', id: x.id, elem: toElem });
    return;
  }
  if (x.kind === 'const' && x.symbolic) throw ctx.error('UNSUPPORTED', 'Cast of a value computed from the batch size');
  ctx.outValue(0, ctx.b.cast(ctx.value(x), toS, wrapOfElem(toElem), ctx.label), toElem);
}

function identity(ctx: Lowering): void {
  ctx.out(0, ctx.input(0));
}

function dropout(ctx: Lowering): void {
  const x = ctx.input(0);
  let training = false, ratio = 0.5;
  if (ctx.opset >= 12) {
    const r = ctx.maybe(1);
    if (r !== undefined) ratio = ctx.constInput(1, 'Dropout ratio').data[0]!;
    const t = ctx.maybe(2);
    if (t !== undefined) training = ctx.constInput(2, 'Dropout training_mode').data[0]! !== 0;
  } else if (ctx.opset < 7) {
    training = ctx.attrInt('is_test', 0) === 0;
  } else {
    ratio = ctx.attrFloat('ratio', 0.5);
  }
  if (training && ratio > 0 && ctx.opset >= 7) {
    throw ctx.error('UNSUPPORTED', 'Dropout in training mode (random masks are not reproducible across runtimes)', { actual: `ratio ${ratio}` });
  }
  ctx.out(0, x);
  if (ctx.wants(1)) {
    if (ctx.batched(x)) throw ctx.error('UNSUPPORTED', 'Dropout mask output of a batched value');
    const dims = ctx.dims(x);
    ctx.out(1, ctx.makeConst(OnnxDataType.BOOL, dims, new Int32Array(elementCount(dims)).fill(1)));
  }
}

export const SHAPE_RULES: readonly OpRule[] = [
  rule('Reshape', reshape, { constInputs: [1], movesValues: true }),
  rule('Flatten', flatten, { movesValues: true }),
  rule('Squeeze', squeeze, { constInputs: [1], movesValues: true }),
  rule('Unsqueeze', unsqueeze, { constInputs: [1], movesValues: true }),
  rule('Transpose', transpose, { movesValues: true }),
  rule('Concat', concat, { since: 4, movesValues: true }),
  rule('Gather', gather, { movesValues: true }),
  rule('Shape', shape, { noFold: true }),
  rule('Constant', constant, { noFold: true }),
  rule('ConstantOfShape', constantOfShape, { since: 9, constInputs: [0], noFold: true }),
  rule('Cast', cast, { since: 6, movesValues: true }),
  rule('Identity', identity, { movesValues: true, noFold: true }),
  rule('Dropout', dropout, { constInputs: [1, 2], noFold: true }),
];

export type { ConstSym };
