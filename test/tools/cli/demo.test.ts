// `edgenn demo`: runs with no setup, shows what the README promises (perceptron learns AND/OR and
// reports non-convergence on XOR; a sigmoid MLP learns XOR by backprop with a falling loss and a
// correct truth table; the spiral classifier reaches high validation accuracy with arena report
// and health signals) and finishes quickly. Each part also runs alone with --only.
// Tolerances: the spiral's validation accuracy >= 0.9 (the part's own success criterion; the
// seeded run reaches ~0.98); the time bound (20 s) is the budget on a Pi-class machine,
// generous here on purpose (it must not flake), the real figure is printed in the output.
import { describe, expect, test } from 'vitest';
import { runDemo, DEMO_PARTS } from '../../../tools/cli/commands/demo.js';
import type { StepRecord } from '../../../runtime/train/types.js';
import { cli } from './support.js';

describe('edgenn demo', () => {
  test('the whole demo: exit 0, every part learns what it shows, within the time budget', async () => {
    const t0 = performance.now();
    const r = await cli(['demo'], process.cwd());
    const seconds = (performance.now() - t0) / 1000;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(seconds).toBeLessThan(20);
    const o = r.stdout;
    expect(o).toMatch(/AND: converged after \d+ epochs.*4\/4 correct/);
    expect(o).toMatch(/OR : converged after \d+ epochs.*4\/4 correct/);
    expect(o).toMatch(/XOR: NO convergence after 100 epochs/);
    expect(o).toContain('XOR learned by backprop');
    const losses = [...o.matchAll(/epoch +\d+ {2}loss (\d\.\d+) /g)].map((m) => Number(m[1]));
    expect(losses.length).toBeGreaterThan(3);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 10);
    expect(o).toMatch(/arena [\d.]+ KiB = params .* lower bound/);
    expect(o).toMatch(/health at step \d+: gradient norm/);
    expect(o).toMatch(/dead ReLUs: layer 1 \d+%/);
    const acc = Number(/spiral: validation accuracy ([\d.]+)%/.exec(o)![1]);
    expect(acc).toBeGreaterThanOrEqual(90);
    expect(o).not.toContain('[UNEXPECTED]');
  });

  test('--only runs one part; unknown part is a usage error', async () => {
    const r = await cli(['demo', '--only', 'xor'], process.cwd());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('XOR learned by backprop');
    expect(r.stdout).not.toContain('spiral');
    const bad = await cli(['demo', '--only', 'mnist'], process.cwd());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--only: unknown value "mnist"; expected one of perceptron, xor, spiral, fleet');
  });

  test('training parts report their steps to observers', async () => {
    const steps: number[] = [];
    const code = await runDemo({ line: () => undefined, isTTY: false, onStep: (part: string, r: Readonly<StepRecord>) => { if (part === 'spiral') steps.push(r.step); } },
      DEMO_PARTS.filter((p) => p.name === 'spiral'));
    expect(code).toBe(0);
    expect(steps.length).toBeGreaterThan(100);
    expect(steps[0]).toBe(1);
  });
});
