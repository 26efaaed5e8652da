// Observers: running min/max of a tensor (per tensor or per channel) from which scale and zero
// point are chosen (qparams.ts), and the QAT building block that observes then fake-quantizes.
// State lives in the arena so a QAT step allocates nothing:
//   state is (2, C): min (C) then max (C); observerReset fills +Inf / -Inf ("nothing seen")
//   qp    is (2, C): scale (C) then zero point (C), the layout fake-quant.ts reads
// x is viewed as (outer, C, inner) (qparams.channelView): per tensor outer = 1, C = 1.
// Kinds, as torch.ao.quantization:
//   OBSERVER_MINMAX          MinMaxObserver / PerChannelMinMaxObserver: min = min(min, batch min)
//   OBSERVER_MOVING_AVERAGE  MovingAverage(PerChannel)MinMaxObserver and the fused QAT module:
//                            the first batch sets min/max, later min += c * (batch_min - min)
//                            in float32 (c = averaging constant, 0.01 by default)
// Not here: the choice of qparams (qparams.ts), the per-layer QAT config and graph insertion.
import { qparamsPerChannelInto, type QParamsRule, type QScheme } from './qparams.js';
import { fakeQuantForward, fakeQuantBackward, type RoundingMode } from './fake-quant.js';

export const OBSERVER_MINMAX = 0;
export const OBSERVER_MOVING_AVERAGE = 1;
export type ObserverKind = typeof OBSERVER_MINMAX | typeof OBSERVER_MOVING_AVERAGE;

/** Bits of a QAT step's flags (PyTorch's observer_enabled / fake_quant_enabled buffers). */
export const QAT_OBSERVE = 1;
export const QAT_FAKE_QUANT = 2;

/** The usual QAT schedule, in optimizer steps (0-based): observe from the start and freeze the
 *  observer (keep its qparams) at `freezeObserverAt`; fake-quantize from `fakeQuantFrom`. */
export interface QatSchedule {
  readonly freezeObserverAt?: number;
  readonly fakeQuantFrom?: number;
  readonly observe?: boolean;
  readonly fakeQuant?: boolean;
}

/** Flags for step `step` (allocation-free; call it every step). */
export function qatFlags(step: number, s: QatSchedule): number {
  let f = 0;
  if (s.observe !== false && step < (s.freezeObserverAt ?? Infinity)) f |= QAT_OBSERVE;
  if (s.fakeQuant !== false && step >= (s.fakeQuantFrom ?? 0)) f |= QAT_FAKE_QUANT;
  return f;
}

export function observerStateFloats(C: number): number {
  return 2 * C;
}

export function observerReset(a: Float32Array, state: number, C: number): void {
  for (let c = 0; c < C; c++) { a[state + c] = Infinity; a[state + C + c] = -Infinity; }
}

/** Folds one batch into the running min/max. NaN in the batch makes that channel's min/max NaN
 *  (like torch.aminmax). Empty channels (outer * inner = 0) leave the state unchanged. */
export function observerUpdate(a: Float32Array, state: number, x: number, outer: number, C: number, inner: number,
                               kind: ObserverKind, averaging: number): void {
  AVERAGING[0] = averaging;
  observerUpdateP(a, state, x, outer, C, inner, kind, AVERAGING);
}

const AVERAGING = new Float64Array(1);

/** observerUpdate with the averaging constant in p[0]: the graph op's form.
 *  NOTE: a double passed as an argument to a call V8 does not inline is boxed (a heap
 *  allocation per step); a Float64Array element is not. */
export function observerUpdateP(a: Float32Array, state: number, x: number, outer: number, C: number, inner: number,
                                kind: number, p: Float64Array): void {
  if (outer * inner === 0) return;
  const avg = Math.fround(p[0]!);
  for (let c = 0; c < C; c++) {
    let mn = Infinity, mx = -Infinity;
    for (let o = 0; o < outer; o++) {
      const base = x + (o * C + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = a[base + i]!;
        if (v < mn || v !== v) mn = v;
        if (v > mx || v !== v) mx = v;
      }
      if (mn !== mn) break;
    }
    const rm = a[state + c]!, rM = a[state + C + c]!;
    if (kind === OBSERVER_MINMAX) {
      a[state + c] = mn < rm || mn !== mn ? mn : rm;
      a[state + C + c] = mx > rM || mx !== mx ? mx : rM;
    } else {
      // NOTE: three float32 roundings (difference, product, sum) as PyTorch's float tensors do.
      a[state + c] = rm === Infinity ? mn : rm + Math.fround(avg * Math.fround(mn - rm));
      a[state + C + c] = rM === -Infinity ? mx : rM + Math.fround(avg * Math.fround(mx - rM));
    }
  }
}

/** Naive twin: gathers each channel's elements by flat index. */
export function observerUpdateRef(a: Float32Array, state: number, x: number, outer: number, C: number, inner: number,
                                  kind: ObserverKind, averaging: number): void {
  const n = outer * C * inner;
  if (outer * inner === 0) return;
  for (let c = 0; c < C; c++) {
    let mn = Infinity, mx = -Infinity;
    for (let k = 0; k < n; k++) {
      if (Math.floor(k / inner) % C !== c) continue;
      const v = a[x + k]!;
      mn = Number.isNaN(mn) || Number.isNaN(v) ? NaN : Math.min(mn, v);
      mx = Number.isNaN(mx) || Number.isNaN(v) ? NaN : Math.max(mx, v);
    }
    const rm = a[state + c]!, rM = a[state + C + c]!;
    if (kind === OBSERVER_MINMAX) {
      a[state + c] = Number.isNaN(mn) ? NaN : Math.min(rm, mn);
      a[state + C + c] = Number.isNaN(mx) ? NaN : Math.max(rM, mx);
    } else {
      const c32 = Math.fround(averaging);
      a[state + c] = rm === Infinity ? mn : Math.fround(rm + Math.fround(c32 * Math.fround(mn - rm)));
      a[state + C + c] = rM === -Infinity ? mx : Math.fround(rM + Math.fround(c32 * Math.fround(mx - rM)));
    }
  }
}

/** Scale and zero point of every channel from the running min/max (see qparams.ts for rules). */
export function observerQParams(a: Float32Array, qp: number, state: number, C: number,
                                scheme: QScheme, rule: QParamsRule): void {
  qparamsPerChannelInto(a, qp, state, C, scheme, rule);
}

/**
 * One QAT fake-quant site in training (FakeQuantize / FusedMovingAvgObsFakeQuantize forward):
 * if flags has QAT_OBSERVE, fold x into the state and refresh qp from it; then if flags has
 * QAT_FAKE_QUANT, y = fake_quantize(x, qp), else y = x. With the observer frozen, qp keeps its
 * values (also when they came from an imported model rather than from an observer).
 * rule 'fused' + OBSERVER_MOVING_AVERAGE reproduces torch.fused_moving_avg_obs_fake_quant.
 */
export function observedFakeQuantForward(a: Float32Array, y: number, x: number, state: number, qp: number,
                                         outer: number, C: number, inner: number, flags: number,
                                         kind: ObserverKind, averaging: number, scheme: QScheme, rule: QParamsRule,
                                         mode: RoundingMode = 'torch'): void {
  if ((flags & QAT_OBSERVE) !== 0) {
    observerUpdate(a, state, x, outer, C, inner, kind, averaging);
    qparamsPerChannelInto(a, qp, state, C, scheme, rule);
  }
  if ((flags & QAT_FAKE_QUANT) !== 0) {
    fakeQuantForward(a, y, x, qp, qp + C, outer, C, inner, scheme.qmin, scheme.qmax, mode);
  } else if (y !== x) {
    const n = outer * C * inner;
    for (let i = 0; i < n; i++) a[y + i] = a[x + i]!;
  }
}

/** Its backward: the clipped STE with the qparams the forward used (dx accumulates). */
export function observedFakeQuantBackward(a: Float32Array, dx: number, dy: number, x: number, qp: number,
                                          outer: number, C: number, inner: number, flags: number,
                                          qmin: number, qmax: number, mode: RoundingMode = 'torch'): void {
  if ((flags & QAT_FAKE_QUANT) !== 0) {
    fakeQuantBackward(a, dx, dy, x, qp, qp + C, outer, C, inner, qmin, qmax, mode);
  } else {
    const n = outer * C * inner;
    for (let i = 0; i < n; i++) a[dx + i] += a[dy + i]!;
  }
}
