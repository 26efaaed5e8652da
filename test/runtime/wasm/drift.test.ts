// The committed runtime/wasm/kernels-binary.ts must be exactly what tools/wasm/build-kernels.ts
// makes of runtime/wasm/kernels.wat today, so the embedded bytes never drift from their source.
// Also: the embedded module loads under --disallow-code-generation-from-strings (the bundle's
// flag), which blocks eval/new Function but not WebAssembly compilation.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildKernels, repoRoot, GENERATED_PATH } from '../../../tools/wasm/build-kernels.js';
import { kernelsWasmBytes } from '../../../runtime/wasm/kernels.js';

describe('embedded wasm kernels', () => {
  it('kernels-binary.ts equals a fresh assembly of kernels.wat (regenerate: see its header)', async () => {
    const root = repoRoot();
    const committed = readFileSync(join(root, GENERATED_PATH), 'utf8');
    expect(committed === await buildKernels(root), `${GENERATED_PATH} is stale`).toBe(true);
  });

  it('decodes to a valid module (base64 decoder without Buffer = Buffer decoding)', () => {
    const bytes = kernelsWasmBytes();
    const text = readFileSync(join(repoRoot(), GENERATED_PATH), 'utf8');
    const b64 = [...text.matchAll(/'([A-Za-z0-9+/=]+)'/g)].map((m) => m[1]).join('');
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(b64, 'base64'))).toBe(0);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d]);
  });

  it('compiles and runs under --disallow-code-generation-from-strings', () => {
    const b64 = Buffer.from(kernelsWasmBytes()).toString('base64');
    const script = `
      let evalBlocked = false;
      try { new Function('return 1')(); } catch { evalBlocked = true; }
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
      const mod = new WebAssembly.Module(Buffer.from(process.env.KERNELS_B64, 'base64'));
      const { exports } = new WebAssembly.Instance(mod, { env: { memory } });
      const a = new Float32Array(memory.buffer);
      a.set([-1, 2, 0.5, -3], 0);
      exports.relu_forward(4, 0, 4);
      process.stdout.write(JSON.stringify({ evalBlocked, y: Array.from(a.subarray(4, 8)) }));`;
    const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', script],
      { env: { ...process.env, KERNELS_B64: b64 }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ evalBlocked: true, y: [0, 2, 0.5, 0] });
  });
});
