// LR schedules against torch's closed forms (StepLR, CosineAnnealingLR, LinearLR and the
// SequentialLR warm-up-then-cosine), with the expected numbers written from the formulas.
// Tolerance: abs 1e-15 on lrs <= 0.1 (ulp ~1.4e-17): float64 closed forms, where only Math.cos vs
// libm cos may differ in the last bit.
import { describe, expect, it } from 'vitest';
import {
  cosineAnnealingLr, linearWarmupLr, resolveSchedule, scheduleLr, stepDecayLr, warmupCosineLr,
  type ScheduleConfig,
} from '../../../runtime/optim/schedule.js';
import { EdgennError } from '../../../runtime/errors.js';

const TOL = 1e-15;
function near(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(TOL);
}

describe('schedules: torch closed forms', () => {
  it('step decay (StepLR): base * gamma^floor(epoch / stepSize)', () => {
    // base 0.1, stepSize 30, gamma 0.1 (torch's doc example)
    near(stepDecayLr(0.1, 0, 30, 0.1), 0.1);
    near(stepDecayLr(0.1, 29, 30, 0.1), 0.1);
    near(stepDecayLr(0.1, 30, 30, 0.1), 0.1 * 0.1);
    near(stepDecayLr(0.1, 59, 30, 0.1), 0.1 * 0.1);
    near(stepDecayLr(0.1, 60, 30, 0.1), 0.1 * 0.1 ** 2);
    near(stepDecayLr(0.05, 7, 2), 0.05 * 0.1 ** 3);          // default gamma 0.1
  });

  it('cosine annealing: etaMin + (base - etaMin) * (1 + cos(pi * i / tMax)) / 2', () => {
    // base 0.1, tMax 10, etaMin 0.001
    near(cosineAnnealingLr(0.1, 0, 10, 0.001), 0.1);
    // cos(0.3 pi) = 0.5877852522924731: 0.001 + 0.099 * 1.5877852522924731 / 2
    near(cosineAnnealingLr(0.1, 3, 10, 0.001), 0.07959536998847742);
    near(cosineAnnealingLr(0.1, 5, 10, 0.001), 0.0505);        // cos(pi/2) = 0: the midpoint
    near(cosineAnnealingLr(0.1, 10, 10, 0.001), 0.001);
    // default etaMin 0; cos(pi/8) = 0.9238795325112867
    near(cosineAnnealingLr(0.1, 1, 8), 0.09619397662556434);
    // NOTE kept from torch: past tMax the cosine climbs back (cos(1.5 pi) = 0 -> the midpoint)
    near(cosineAnnealingLr(0.1, 15, 10), 0.05);
  });

  it('linear warm-up (LinearLR to 1): base * (s + (1 - s) * min(i, W) / W)', () => {
    // base 0.1, W 4, start factor 0.25
    near(linearWarmupLr(0.1, 0, 4, 0.25), 0.025);
    near(linearWarmupLr(0.1, 1, 4, 0.25), 0.1 * (0.25 + 0.75 / 4));   // 0.04375
    near(linearWarmupLr(0.1, 2, 4, 0.25), 0.0625);
    near(linearWarmupLr(0.1, 4, 4, 0.25), 0.1);
    near(linearWarmupLr(0.1, 100, 4, 0.25), 0.1);
    near(linearWarmupLr(0.3, 0, 5), 0.1);                        // default start factor 1/3
  });

  it('warm-up then cosine (SequentialLR of LinearLR and CosineAnnealingLR, milestone W)', () => {
    // base 0.01, W 4, totalSteps 14 (cosine tMax 10), start factor 0.1, etaMin 1e-4
    const lr = (i: number): number => warmupCosineLr(0.01, i, 4, 14, 0.1, 1e-4);
    near(lr(0), 0.001);                                          // 0.01 * 0.1
    near(lr(1), 0.0032500000000000003);                          // 0.01 * (0.1 + 0.9/4)
    near(lr(3), 0.007750000000000001);
    near(lr(4), 0.01);                                           // cosine at 0: the base lr
    near(lr(5), 0.009757729755661011);                           // 1e-4 + 0.0099 * (1 + cos(pi/10)) / 2
    near(lr(9), 0.005050000000000001);                           // cosine midpoint
    near(lr(14), 1e-4);
    // warmupSteps 0: plain cosine over totalSteps
    near(warmupCosineLr(0.1, 3, 0, 10, 0.1, 0.001), 0.07959536998847742);
  });
});

describe('schedules: configs and counters', () => {
  it('scheduleLr reads epochs for step decay and optimizer steps for the others', () => {
    const stepCfg = resolveSchedule({ kind: 'step', stepSize: 2 });
    near(scheduleLr(stepCfg, 0.1, 1000, 1), 0.1);               // optimizer step count ignored
    near(scheduleLr(stepCfg, 0.1, 0, 2), 0.01);
    const cos = resolveSchedule({ kind: 'cosine', tMax: 10, etaMin: 0.001 });
    near(scheduleLr(cos, 0.1, 3, 99), 0.07959536998847742);     // epoch ignored
    const warm = resolveSchedule({ kind: 'linear-warmup', warmupSteps: 4, startFactor: 0.25 });
    near(scheduleLr(warm, 0.1, 2, 0), 0.0625);
    const wc = resolveSchedule({ kind: 'warmup-cosine', warmupSteps: 4, totalSteps: 14, startFactor: 0.1, etaMin: 1e-4 });
    near(scheduleLr(wc, 0.01, 5, 0), 0.009757729755661011);
    near(scheduleLr(resolveSchedule({ kind: 'constant' }), 0.02, 7, 3), 0.02);
  });

  it('fills torch defaults', () => {
    expect(resolveSchedule({ kind: 'step', stepSize: 3 })).toEqual({ kind: 'step', stepSize: 3, gamma: 0.1 });
    expect(resolveSchedule({ kind: 'cosine', tMax: 5 })).toEqual({ kind: 'cosine', tMax: 5, etaMin: 0 });
    expect(resolveSchedule({ kind: 'linear-warmup', warmupSteps: 5 }))
      .toEqual({ kind: 'linear-warmup', warmupSteps: 5, startFactor: 1 / 3 });
  });

  const bad: [string, unknown, string][] = [
    ['a zero step size', { kind: 'step', stepSize: 0 }, "'stepSize'"],
    ['a fractional step size', { kind: 'step', stepSize: 1.5 }, "'stepSize'"],
    ['tMax 0', { kind: 'cosine', tMax: 0 }, "'tMax'"],
    ['start factor 0', { kind: 'linear-warmup', warmupSteps: 3, startFactor: 0 }, "'startFactor'"],
    ['start factor above 1', { kind: 'linear-warmup', warmupSteps: 3, startFactor: 1.5 }, "'startFactor'"],
    ['totalSteps not past the warm-up', { kind: 'warmup-cosine', warmupSteps: 10, totalSteps: 10 }, "'totalSteps'"],
    ['an unknown kind', { kind: 'exponential' }, "'kind'"],
    ['an unknown option', { kind: 'cosine', tMax: 10, T_max: 10 }, "'T_max'"],
  ];
  for (const [what, cfg, names] of bad) {
    it(`rejects ${what}`, () => {
      let err: unknown;
      try { resolveSchedule(cfg as ScheduleConfig); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(EdgennError);
      expect((err as EdgennError).code).toBe('ARG');
      expect((err as EdgennError).message).toContain(names);
    });
  }
});
