// SGD with momentum, dampening, Nesterov and L2 weight decay: torch.optim.SGD semantics
// (torch 1.13 _single_tensor_sgd), as one loop over the parallel param / grad / buffer slabs.
// Not here: LR schedules (schedule.ts), gradient clipping (clip.ts), zeroing grads (the trainer).
//
//   d   = grad (negated if maximize) + weightDecay * p
//   buf = d                                         on the first step (t === 1; torch: buffer is None)
//       = momentum * buf + (1 - dampening) * d      after
//   d   = d + momentum * buf  (nesterov)  |  buf
//   p   = p - lr * d
//
// Slabs (float indices into the arena `a`; n = number of parameters):
//   a[p .. p+n)  params      a[g .. g+n)  grads (read only)
//   a[s .. s+n)  momentum buffer, only when momentum != 0 (else stateFloatsPerParam = 0, s unused)
import type { Optimizer, ResolvedSgdConfig, SgdConfig } from './optimizer.js';
import { checkBoolean, checkKeys, checkNumber } from './check.js';
import { EdgennError } from '../errors.js';

const SGD_KEYS = ['kind', 'lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize'] as const;

/** Fills torch's defaults and validates like torch.optim.SGD; throws EdgennError('ARG'). */
export function resolveSgdConfig(cfg: SgdConfig): ResolvedSgdConfig {
  const who = 'optimizer sgd';
  checkKeys(who, cfg, SGD_KEYS);
  const lr = checkNumber(who, 'lr', cfg.lr, { min: 0 });
  const momentum = checkNumber(who, 'momentum', cfg.momentum ?? 0, { min: 0 });
  const dampening = checkNumber(who, 'dampening', cfg.dampening ?? 0, {});
  const nesterov = checkBoolean(who, 'nesterov', cfg.nesterov ?? false);
  const weightDecay = checkNumber(who, 'weightDecay', cfg.weightDecay ?? 0, { min: 0 });
  const maximize = checkBoolean(who, 'maximize', cfg.maximize ?? false);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new EdgennError('ARG', `${who}: option 'nesterov' requires a momentum and zero dampening`, {
      expected: 'momentum > 0 and dampening = 0', actual: `momentum ${momentum}, dampening ${dampening}`,
    });
  }
  return { kind: 'sgd', lr, momentum, dampening, nesterov, weightDecay, maximize };
}

export class SgdOptimizer implements Optimizer {
  readonly kind = 'sgd' as const;
  readonly stateFloatsPerParam: number;
  lr: number;
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly nesterov: boolean;
  private readonly weightDecay: number;
  private readonly maximize: boolean;

  constructor(cfg: SgdConfig) {
    const r = resolveSgdConfig(cfg);
    this.lr = r.lr;
    this.momentum = r.momentum;
    this.dampening = r.dampening;
    this.nesterov = r.nesterov;
    this.weightDecay = r.weightDecay;
    this.maximize = r.maximize;
    this.stateFloatsPerParam = r.momentum !== 0 ? 1 : 0;
  }

  // NOTE: float32 rounding follows torch's CPU kernels: every tensor op rounds its result to
  // float32 once (Math.fround), and its Python-float scalars are first cast to float32
  // (`add(x, alpha=c)` computes x + float(c) * y). torch's add-with-alpha is a fused multiply-add;
  // a product of two float32 values is exact in float64, so evaluating `x + c*y` in float64 and
  // rounding once to float32 gives the fused result (up to a rare double-rounding tie).
  step(a: Float32Array, p: number, g: number, s: number, n: number, t: number): void {
    const negLr = Math.fround(-this.lr);
    const wd = Math.fround(this.weightDecay);
    const hasWd = this.weightDecay !== 0;
    const mom = Math.fround(this.momentum);
    const hasMom = this.momentum !== 0;
    const keep = Math.fround(1 - this.dampening);        // torch: alpha = 1 - dampening
    const nesterov = this.nesterov;
    const sign = this.maximize ? -1 : 1;
    const first = t <= 1;
    for (let i = 0; i < n; i++) {
      const w = a[p + i];
      let d = sign * a[g + i];
      if (hasWd) d = Math.fround(d + wd * w);
      if (hasMom) {
        // buf.mul_(momentum) rounds, then .add_(d, alpha=1-dampening) rounds (fused)
        const buf = first ? d : Math.fround(Math.fround(a[s + i] * mom) + keep * d);
        a[s + i] = buf;
        d = nesterov ? Math.fround(d + mom * buf) : buf;
      }
      a[p + i] = w + negLr * d;                           // the store rounds to float32
    }
  }

  config(): ResolvedSgdConfig {
    return {
      kind: 'sgd', lr: this.lr, momentum: this.momentum, dampening: this.dampening,
      nesterov: this.nesterov, weightDecay: this.weightDecay, maximize: this.maximize,
    };
  }
}

/** Naive float64 twin for tests: same update on plain arrays (state = the momentum buffer,
 *  n floats, used only when momentum != 0), no float32 rounding, no scalar casts. */
export function sgdStepRef(
  cfg: ResolvedSgdConfig, params: number[], grads: number[], state: number[], t: number,
): void {
  for (let i = 0; i < params.length; i++) {
    let d = cfg.maximize ? -grads[i] : grads[i];
    d += cfg.weightDecay * params[i];
    if (cfg.momentum !== 0) {
      state[i] = t <= 1 ? d : cfg.momentum * state[i] + (1 - cfg.dampening) * d;
      d = cfg.nesterov ? d + cfg.momentum * state[i] : state[i];
    }
    params[i] = params[i] - cfg.lr * d;
  }
}
