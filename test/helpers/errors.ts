// Runs f, expecting an EdgennError; returns it for assertions on code and message.
import { expect } from 'vitest';
import { EdgennError } from '../../runtime/errors.js';

export function catchErr(f: () => unknown): EdgennError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EdgennError);
    return e as EdgennError;
  }
  throw new Error('expected an EdgennError, nothing was thrown');
}
