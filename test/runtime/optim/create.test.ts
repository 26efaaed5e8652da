// createOptimizer: dispatch on kind, torch defaults, round trip through config(), and errors.
import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../../../runtime/optim/create.js';
import type { OptimizerConfig } from '../../../runtime/optim/optimizer.js';
import { EdgennError } from '../../../runtime/errors.js';

describe('createOptimizer', () => {
  it('builds each kind with its state size', () => {
    expect(createOptimizer({ kind: 'sgd', lr: 0.1 }).stateFloatsPerParam).toBe(0);
    expect(createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9 }).stateFloatsPerParam).toBe(1);
    expect(createOptimizer({ kind: 'adam' }).stateFloatsPerParam).toBe(2);
    expect(createOptimizer({ kind: 'adamw', amsgrad: true }).stateFloatsPerParam).toBe(3);
    expect(createOptimizer({ kind: 'adamw' }).kind).toBe('adamw');
  });

  it('config() round-trips through JSON to an equal optimizer', () => {
    const cfgs: OptimizerConfig[] = [
      { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 },
      { kind: 'adam', lr: 0.01, betas: [0.8, 0.95], eps: 1e-6, amsgrad: true },
      { kind: 'adamw', lr: 0.002, weightDecay: 0.05, maximize: true },
    ];
    for (const c of cfgs) {
      const first = createOptimizer(c).config();
      const again = createOptimizer(JSON.parse(JSON.stringify(first)) as OptimizerConfig).config();
      expect(again).toEqual(first);
      for (const [k, v] of Object.entries(c)) expect((first as unknown as Record<string, unknown>)[k]).toEqual(v);
    }
  });

  const bad: [string, unknown, string][] = [
    ['an unknown kind', { kind: 'rmsprop', lr: 0.1 }, "'kind'"],
    ['a missing kind', { lr: 0.1 }, "'kind'"],
    ['null', null, 'object'],
    ['sgd without lr', { kind: 'sgd' }, "'lr'"],
    ['adam with a torch-spelled key', { kind: 'adam', weight_decay: 0.1 }, "'weight_decay'"],
  ];
  for (const [what, cfg, names] of bad) {
    it(`rejects ${what} with ARG`, () => {
      let err: unknown;
      try { createOptimizer(cfg as OptimizerConfig); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(EdgennError);
      expect((err as EdgennError).code).toBe('ARG');
      expect((err as EdgennError).message).toContain(names);
    });
  }
});
