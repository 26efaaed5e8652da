// Learning-rate schedules as pure functions of a counter: torch.optim.lr_scheduler closed forms.
// No state: nothing to checkpoint but the counters the trainer already keeps. Not here: applying
// the value (the trainer sets `optimizer.lr` before each step).
//
// Counters (what each schedule counts is fixed, so a config means one thing):
//   step   = optimizer steps already taken: 0 before the first update, i.e. t - 1 for the update
//            with 1-based step count t. Equals torch's `last_epoch` when scheduler.step() is
//            called after every optimizer.step().
//   epoch  = 0-based index of the current epoch. Equals torch's `last_epoch` when
//            scheduler.step() is called after every epoch.
// | kind            | counts | torch equivalent                                                   |
// | constant        | -      | no scheduler                                                       |
// | step            | epoch  | StepLR(step_size, gamma)                                           |
// | cosine          | step   | CosineAnnealingLR(T_max, eta_min), closed form                     |
// | linear-warmup   | step   | LinearLR(start_factor, end_factor=1, total_iters=warmupSteps)      |
// | warmup-cosine   | step   | SequentialLR([LinearLR(start_factor, total_iters=W),               |
// |                 |        |   CosineAnnealingLR(T_max=totalSteps-W, eta_min)], milestones=[W]) |
// NOTE: torch's CosineAnnealingLR is not clamped at T_max: past it the cosine climbs back to the
// base lr (period 2*T_max). Kept as torch; set tMax / totalSteps to the real run length.
import { EdgennError } from '../errors.js';
import { checkKeys, checkNumber } from './check.js';

export type ScheduleConfig =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly stepSize: number; readonly gamma?: number }
  | { readonly kind: 'cosine'; readonly tMax: number; readonly etaMin?: number }
  | { readonly kind: 'linear-warmup'; readonly warmupSteps: number; readonly startFactor?: number }
  | {
    readonly kind: 'warmup-cosine'; readonly warmupSteps: number; readonly totalSteps: number;
    readonly startFactor?: number; readonly etaMin?: number;
  };

/** A validated schedule with every default filled in (torch's: gamma 0.1, etaMin 0,
 *  startFactor 1/3). */
export type ResolvedScheduleConfig =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly stepSize: number; readonly gamma: number }
  | { readonly kind: 'cosine'; readonly tMax: number; readonly etaMin: number }
  | { readonly kind: 'linear-warmup'; readonly warmupSteps: number; readonly startFactor: number }
  | {
    readonly kind: 'warmup-cosine'; readonly warmupSteps: number; readonly totalSteps: number;
    readonly startFactor: number; readonly etaMin: number;
  };

/** StepLR: baseLr * gamma^floor(epoch / stepSize). Counts epochs. */
export function stepDecayLr(baseLr: number, epoch: number, stepSize: number, gamma = 0.1): number {
  return baseLr * gamma ** Math.floor(epoch / stepSize);
}

/** CosineAnnealingLR closed form: etaMin + (baseLr - etaMin) * (1 + cos(pi * step / tMax)) / 2.
 *  Counts optimizer steps. */
export function cosineAnnealingLr(baseLr: number, step: number, tMax: number, etaMin = 0): number {
  return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * step / tMax)) / 2;
}

/** LinearLR to factor 1: baseLr * (startFactor + (1 - startFactor) * min(step, warmupSteps) /
 *  warmupSteps); baseLr from step warmupSteps on. Counts optimizer steps. */
export function linearWarmupLr(baseLr: number, step: number, warmupSteps: number, startFactor = 1 / 3): number {
  return baseLr * (startFactor + (1 - startFactor) * Math.min(warmupSteps, step) / warmupSteps);
}

/** Linear warm-up for warmupSteps steps, then cosine annealing from baseLr to etaMin over the
 *  remaining totalSteps - warmupSteps steps (warmupSteps = 0: cosine only). Counts optimizer steps. */
export function warmupCosineLr(
  baseLr: number, step: number, warmupSteps: number, totalSteps: number, startFactor = 1 / 3, etaMin = 0,
): number {
  if (step < warmupSteps) return linearWarmupLr(baseLr, step, warmupSteps, startFactor);
  return cosineAnnealingLr(baseLr, step - warmupSteps, totalSteps - warmupSteps, etaMin);
}

/** Validates a schedule config and fills torch's defaults; throws EdgennError('ARG'). */
export function resolveSchedule(cfg: ScheduleConfig): ResolvedScheduleConfig {
  if (typeof cfg !== 'object' || cfg === null) {
    throw new EdgennError('ARG', 'schedule: the config must be an object', { actual: String(cfg) });
  }
  const kind = cfg.kind;
  const who = `schedule ${String(kind)}`;
  switch (kind) {
    case 'constant':
      checkKeys(who, cfg, ['kind']);
      return { kind };
    case 'step':
      checkKeys(who, cfg, ['kind', 'stepSize', 'gamma']);
      return {
        kind,
        stepSize: checkNumber(who, 'stepSize', cfg.stepSize, { integer: true, min: 1 }),
        gamma: checkNumber(who, 'gamma', cfg.gamma ?? 0.1, { min: 0 }),
      };
    case 'cosine':
      checkKeys(who, cfg, ['kind', 'tMax', 'etaMin']);
      return {
        kind,
        tMax: checkNumber(who, 'tMax', cfg.tMax, { integer: true, min: 1 }),
        etaMin: checkNumber(who, 'etaMin', cfg.etaMin ?? 0, { min: 0 }),
      };
    case 'linear-warmup':
      checkKeys(who, cfg, ['kind', 'warmupSteps', 'startFactor']);
      return {
        kind,
        warmupSteps: checkNumber(who, 'warmupSteps', cfg.warmupSteps, { integer: true, min: 1 }),
        startFactor: checkNumber(who, 'startFactor', cfg.startFactor ?? 1 / 3, { above: 0, max: 1 }),
      };
    case 'warmup-cosine': {
      checkKeys(who, cfg, ['kind', 'warmupSteps', 'totalSteps', 'startFactor', 'etaMin']);
      const warmupSteps = checkNumber(who, 'warmupSteps', cfg.warmupSteps, { integer: true, min: 0 });
      const totalSteps = checkNumber(who, 'totalSteps', cfg.totalSteps, { integer: true, above: warmupSteps });
      return {
        kind, warmupSteps, totalSteps,
        startFactor: checkNumber(who, 'startFactor', cfg.startFactor ?? 1 / 3, { above: 0, max: 1 }),
        etaMin: checkNumber(who, 'etaMin', cfg.etaMin ?? 0, { min: 0 }),
      };
    }
    default: {
      const never: never = kind;
      throw new EdgennError('ARG', "schedule: invalid option 'kind'", {
        expected: "'constant', 'step', 'cosine', 'linear-warmup' or 'warmup-cosine'", actual: String(never),
      });
    }
  }
}

/** The lr for the update about to run: `step` = optimizer steps already taken (t - 1), `epoch` =
 *  0-based current epoch; each schedule reads the counter it counts (table above). Never throws. */
export function scheduleLr(cfg: ResolvedScheduleConfig, baseLr: number, step: number, epoch: number): number {
  switch (cfg.kind) {
    case 'constant': return baseLr;
    case 'step': return stepDecayLr(baseLr, epoch, cfg.stepSize, cfg.gamma);
    case 'cosine': return cosineAnnealingLr(baseLr, step, cfg.tMax, cfg.etaMin);
    case 'linear-warmup': return linearWarmupLr(baseLr, step, cfg.warmupSteps, cfg.startFactor);
    case 'warmup-cosine':
      return warmupCosineLr(baseLr, step, cfg.warmupSteps, cfg.totalSteps, cfg.startFactor, cfg.etaMin);
  }
}
