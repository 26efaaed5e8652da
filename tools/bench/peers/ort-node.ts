// Peer adapter: onnxruntime-node (the native CPU runtime), the only file importing it.
// Session options are the library defaults (execution provider 'cpu', graph optimisations on,
// intra-op threads = onnxruntime's default for the machine), i.e. what a user gets out of the box.
import * as ort from 'onnxruntime-node';
import type { Impl } from '../impl.js';
import { createOrtImpl } from './ort-shared.js';

export function createOrtNode(): Impl {
  return createOrtImpl('ort-node', ort, { executionProviders: ['cpu'] },
    `onnxruntime-node ${ort.env.versions.node ?? '?'}`, 'native CPU EP, default intra-op threads');
}
