// Rosenblatt's perceptron: learns the linearly separable AND and OR (converges, every output
// correct), never converges on XOR (no line separates it), the rule itself matches a hand trace,
// and bad inputs are refused. Tolerance: exact — outputs are signs and the hand trace uses small
// integers and lr = 1, so every float is exact.
import { describe, expect, test } from 'vitest';
import { predictPerceptron, trainPerceptron } from '../../../runtime/train/perceptron.js';
import { EdgennError } from '../../../runtime/errors.js';

const X = [0, 0, 0, 1, 1, 0, 1, 1];
const AND = [-1, -1, -1, 1];
const OR = [-1, 1, 1, 1];
const XOR = [-1, 1, 1, -1];

describe('trainPerceptron', () => {
  test.each([['AND', AND], ['OR', OR]] as const)('learns %s with ±1 targets', (_, y) => {
    const r = trainPerceptron(X, y, 4, 2, { lr: 0.1, maxEpochs: 100 });
    expect(r.converged).toBe(true);
    expect(r.epochs).toBeLessThan(100);
    expect(r.errorsPerEpoch.length).toBe(r.epochs);
    expect(r.errorsPerEpoch[r.epochs - 1]).toBe(0);
    expect(r.errorsPerEpoch[0]).toBeGreaterThan(0);
    expect(Array.from(predictPerceptron(r, X, 4))).toEqual(y);
  });

  test('0/1 targets are read as -1/+1 (same run as the ±1 targets)', () => {
    const a = trainPerceptron(X, [0, 0, 0, 1], 4, 2, { lr: 0.5, maxEpochs: 50 });
    const b = trainPerceptron(X, AND, 4, 2, { lr: 0.5, maxEpochs: 50 });
    expect(a.converged).toBe(true);
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    expect(Array.from(a.bias)).toEqual(Array.from(b.bias));
    expect(a.epochs).toBe(b.epochs);
  });

  test('XOR: reports non-convergence after maxEpochs, errors in every epoch', () => {
    const r = trainPerceptron(X, XOR, 4, 2, { lr: 1, maxEpochs: 37 });
    expect(r.converged).toBe(false);
    expect(r.epochs).toBe(37);
    expect(r.errorsPerEpoch.length).toBe(37);
    for (const e of r.errorsPerEpoch) expect(e).toBeGreaterThan(0);
    expect(Array.from(predictPerceptron(r, X, 4))).not.toEqual(XOR);
  });

  test('the rule step by step (hand trace of AND, lr 1, zero init)', () => {
    // epoch 1: (0,0) net 0 -> y 0 != -1: w += -1*(0,0), b = -1
    //          (0,1) net -1 -> -1 ok; (1,0) net -1 ok
    //          (1,1) net -1 -> -1 != 1: d = 2: w = (2,2), b = 1
    // after epoch 1: w = (2, 2), b = 1, 2 errors
    const r = trainPerceptron(X, AND, 4, 2, { lr: 1, maxEpochs: 1 });
    expect(r.converged).toBe(false);
    expect(Array.from(r.errorsPerEpoch)).toEqual([2]);
    expect(Array.from(r.weights)).toEqual([2, 2]);
    expect(Array.from(r.bias)).toEqual([1]);
  });

  test('several output units learn AND and OR at once ([N, 2] targets, weights [2, F])', () => {
    const y = [-1, -1, -1, 1, -1, 1, 1, 1]; // rows: (AND, OR)
    const r = trainPerceptron(X, y, 4, 2, { lr: 1, maxEpochs: 100, outputs: 2 });
    expect(r.converged).toBe(true);
    expect(r.weights.length).toBe(4);
    expect(Array.from(predictPerceptron(r, X, 4))).toEqual(y);
  });

  test('refuses bad targets, options and shapes', () => {
    expect(() => trainPerceptron(X, [0, -1, 1, 1], 4, 2, { lr: 1, maxEpochs: 5 })).toThrow(/mix -1 and 0/);
    expect(() => trainPerceptron(X, [0, 2, 1, 1], 4, 2, { lr: 1, maxEpochs: 5 })).toThrow(/index 1/);
    expect(() => trainPerceptron(X, AND, 4, 2, { lr: 0, maxEpochs: 5 })).toThrow(EdgennError);
    expect(() => trainPerceptron(X, AND, 4, 2, { lr: 1, maxEpochs: 0 })).toThrow(/maxEpochs/);
    expect(() => trainPerceptron(X.slice(0, 6), AND, 4, 2, { lr: 1, maxEpochs: 5 })).toThrow(/fewer values/);
    expect(() => trainPerceptron([0, NaN, 0, 1, 1, 0, 1, 1], AND, 4, 2, { lr: 1, maxEpochs: 5 })).toThrow(/not finite/);
  });
});
