// Peer adapter: onnxruntime-web (WebAssembly), the only file importing it.
// In Node, `import 'onnxruntime-web'` resolves (package exports, "node" condition) to
// dist/ort.node.min.mjs, which loads dist/ort-wasm-simd-threaded.{mjs,wasm} relative to its own
// import.meta.url: nothing to configure. One thread (env.wasm.numThreads = 1, set before the first
// session is created), SIMD on (the default build is the SIMD one).
import * as ort from 'onnxruntime-web';
import type { Impl } from '../impl.js';
import { createOrtImpl } from './ort-shared.js';

export function createOrtWeb(): Impl {
  ort.env.wasm.numThreads = 1;
  return createOrtImpl('ort-web', ort, { executionProviders: ['wasm'] },
    `onnxruntime-web ${ort.env.versions.web ?? '?'}`, 'wasm EP, SIMD, numThreads = 1');
}
