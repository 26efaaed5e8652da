// Adam and AdamW (torch 1.13 _single_tensor_adam / _single_tensor_adamw), amsgrad included, as
// one loop over the parallel param / grad / state slabs. Not here: schedules, clipping.
//
//   adamw:  p = p * (1 - lr*weightDecay)          decoupled decay, before the moments
//   adam:   grad = grad + weightDecay * p         L2 folded into the gradient
//   m = b1*m + (1-b1)*grad                         v = b2*v + (1-b2)*grad*grad
//   vmax = max(vmax, v)  (amsgrad; the denominator then uses vmax)
//   step_size = lr / (1 - b1^t)                    bias corrections: float64 scalars, as torch's
//   denom = sqrt(v) / sqrt(1 - b2^t) + eps         Python floats
//   p = p - step_size * m / denom
//
// Slabs (float indices into the arena `a`; n = number of parameters):
//   a[p .. p+n) params     a[g .. g+n) grads (read only)
//   a[s .. s+n) m          a[s+n .. s+2n) v          a[s+2n .. s+3n) vmax (amsgrad only)
// stateFloatsPerParam = 2, or 3 with amsgrad; the slab starts zeroed (torch's zeros_like).
import type { AdamConfig, Optimizer, ResolvedAdamConfig } from './optimizer.js';
import { checkBoolean, checkKeys, checkNumber } from './check.js';
import { EdgennError } from '../errors.js';

const ADAM_KEYS = ['kind', 'lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] as const;

/** Fills torch's defaults (AdamW: weightDecay 0.01) and validates like torch; throws
 *  EdgennError('ARG') naming the option. */
export function resolveAdamConfig(cfg: AdamConfig): ResolvedAdamConfig {
  const kind = cfg.kind;
  const who = `optimizer ${String(kind)}`;
  if (kind !== 'adam' && kind !== 'adamw') {
    throw new EdgennError('ARG', `${who}: invalid option 'kind'`, { expected: "'adam' or 'adamw'", actual: String(kind) });
  }
  checkKeys(who, cfg, ADAM_KEYS);
  const lr = checkNumber(who, 'lr', cfg.lr ?? 1e-3, { min: 0 });
  const betas: unknown = cfg.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new EdgennError('ARG', `${who}: invalid option 'betas'`, {
      expected: 'a pair [beta1, beta2]', actual: JSON.stringify(betas) ?? String(betas),
    });
  }
  const beta1 = checkNumber(who, 'betas[0]', betas[0], { min: 0, below: 1 });
  const beta2 = checkNumber(who, 'betas[1]', betas[1], { min: 0, below: 1 });
  const eps = checkNumber(who, 'eps', cfg.eps ?? 1e-8, { min: 0 });
  const weightDecay = checkNumber(who, 'weightDecay', cfg.weightDecay ?? (kind === 'adamw' ? 0.01 : 0), { min: 0 });
  const amsgrad = checkBoolean(who, 'amsgrad', cfg.amsgrad ?? false);
  const maximize = checkBoolean(who, 'maximize', cfg.maximize ?? false);
  return { kind, lr, betas: [beta1, beta2], eps, weightDecay, amsgrad, maximize };
}

export class AdamOptimizer implements Optimizer {
  readonly kind: 'adam' | 'adamw';
  readonly stateFloatsPerParam: number;
  lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly amsgrad: boolean;
  private readonly maximize: boolean;

  constructor(cfg: AdamConfig) {
    const r = resolveAdamConfig(cfg);
    this.kind = r.kind;
    this.lr = r.lr;
    this.beta1 = r.betas[0];
    this.beta2 = r.betas[1];
    this.eps = r.eps;
    this.weightDecay = r.weightDecay;
    this.amsgrad = r.amsgrad;
    this.maximize = r.maximize;
    this.stateFloatsPerParam = r.amsgrad ? 3 : 2;
  }

  // NOTE: float32 rounding follows torch's CPU kernels op by op: each tensor op rounds its
  // result to float32 (Math.fround) and casts its Python-float scalar to float32 first.
  //   mul_(b1).add_(g, alpha=1-b1)  -> fround(fround(m*b1) + (1-b1)*g)   (add-with-alpha is a
  //                                    fused multiply-add; float64 then one fround reproduces it)
  //   addcmul_(g, g, value=1-b2)    -> v + fround(fround((1-b2)*g)*g)    (not fused)
  //   (sqrt(v) / bc2sqrt).add_(eps) -> three roundings
  //   addcdiv_(m, denom, value=-step_size) -> p + fround(fround(-step_size*m) / denom)
  // so m, v and p match torch bit for bit except for rare double-rounding ties.
  step(a: Float32Array, p: number, g: number, s: number, n: number, t: number): void {
    const lr = this.lr;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2 = 1 - Math.pow(this.beta2, t);
    const negStep = Math.fround(-(lr / bc1));
    const bc2Sqrt = Math.fround(Math.sqrt(bc2));
    const eps = Math.fround(this.eps);
    const b1 = Math.fround(this.beta1), c1 = Math.fround(1 - this.beta1);
    const b2 = Math.fround(this.beta2), c2 = Math.fround(1 - this.beta2);
    const decoupled = this.kind === 'adamw';
    const decay = Math.fround(1 - lr * this.weightDecay);   // AdamW's p.mul_(1 - lr*wd)
    const l2 = !decoupled && this.weightDecay !== 0;
    const wd = Math.fround(this.weightDecay);
    const sign = this.maximize ? -1 : 1;
    const amsgrad = this.amsgrad;
    const m0 = s, v0 = s + n, x0 = s + 2 * n;
    for (let i = 0; i < n; i++) {
      let w = a[p + i];
      if (decoupled) w = Math.fround(w * decay);
      let gr = sign * a[g + i];
      if (l2) gr = Math.fround(gr + wd * w);
      const m = Math.fround(Math.fround(a[m0 + i] * b1) + c1 * gr);
      const v = Math.fround(Math.fround(a[v0 + i] * b2) + Math.fround(Math.fround(c2 * gr) * gr));
      a[m0 + i] = m;
      a[v0 + i] = v;
      let vd = v;
      if (amsgrad) {
        vd = Math.max(a[x0 + i], v);                      // like torch.maximum: NaN propagates
        a[x0 + i] = vd;
      }
      const denom = Math.fround(Math.fround(Math.fround(Math.sqrt(vd)) / bc2Sqrt) + eps);
      a[p + i] = w + Math.fround(Math.fround(negStep * m) / denom);   // the store rounds
    }
  }

  config(): ResolvedAdamConfig {
    return {
      kind: this.kind, lr: this.lr, betas: [this.beta1, this.beta2], eps: this.eps,
      weightDecay: this.weightDecay, amsgrad: this.amsgrad, maximize: this.maximize,
    };
  }
}

/** Naive float64 twin for tests: the same update on plain arrays, state laid out as the slab
 *  (m = state[0..n), v = state[n..2n), vmax = state[2n..3n) with amsgrad), no float32 rounding. */
export function adamStepRef(
  cfg: ResolvedAdamConfig, params: number[], grads: number[], state: number[], t: number,
): void {
  const n = params.length;
  const [b1, b2] = cfg.betas;
  const stepSize = cfg.lr / (1 - b1 ** t);
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  for (let i = 0; i < n; i++) {
    if (cfg.kind === 'adamw') params[i] = params[i] * (1 - cfg.lr * cfg.weightDecay);
    let gr = cfg.maximize ? -grads[i] : grads[i];
    if (cfg.kind === 'adam') gr += cfg.weightDecay * params[i];
    state[i] = b1 * state[i] + (1 - b1) * gr;
    state[n + i] = b2 * state[n + i] + (1 - b2) * gr * gr;
    let v = state[n + i];
    if (cfg.amsgrad) {
      state[2 * n + i] = Math.max(state[2 * n + i], v);
      v = state[2 * n + i];
    }
    params[i] = params[i] - stepSize * state[i] / (Math.sqrt(v) / bc2Sqrt + cfg.eps);
  }
}
