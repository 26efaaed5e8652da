// The decoder must not generate code from strings (protobufjs reflection does; onnx-proto's
// static module must not): bundle a small decode script with esbuild, run it in a child node with
// --disallow-code-generation-from-strings, and compare what it decoded with the in-process decode.
// The child also proves the flag is in force (eval and new Function throw there), so the test
// cannot pass vacuously. esbuild is imported only here (a test-time tool, not a library seam).
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FIXTURES, REFERENCE_DIR } from '../../helpers/reference.js';
import { decodeModel, decodeTensor } from '../../../importers/onnx/decode.js';

const REPO = resolve(FIXTURES, '..', '..');
const ENTRY = `
import { readFileSync } from 'node:fs';
import { decodeModel, decodeTensor } from './importers/onnx/decode.js';
import { encodeModel } from './importers/onnx/encode.js';
let evalBlocked = false, functionBlocked = false;
try { (0, eval)('1'); } catch { evalBlocked = true; }
try { new Function('return 1'); } catch { functionBlocked = true; }
const m = decodeModel(readFileSync(process.argv[2]));
const again = decodeModel(encodeModel(m));
const t = decodeTensor(readFileSync(process.argv[3]));
process.stdout.write(JSON.stringify({
  evalBlocked, functionBlocked,
  nodes: m.graph.nodes.map((n) => n.opType), roundTripNodes: again.graph.nodes.length,
  inits: [...m.graph.initializers.values()].map((x) => [x.name, x.dims, Array.from(x.data, String)]),
  tensor: [t.dataType, t.dims, Array.from(t.data, String)],
}));
`;

describe('decoding without code generation from strings', () => {
  it('a bundled decoder runs under node --disallow-code-generation-from-strings', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'edgenn-evalfree-')), 'decode.cjs');
    await build({
      stdin: { contents: ENTRY, resolveDir: REPO, loader: 'ts', sourcefile: 'entry.ts' },
      bundle: true, platform: 'node', format: 'cjs', target: 'node18', outfile: out, logLevel: 'silent',
    });
    const modelPath = join(REFERENCE_DIR, 'onnx_qdq_matmul.onnx');
    // an int64 tensor: exercises the Long path of protobufjs inside the bundle
    const tensorPath = join(FIXTURES, 'onnx-node-tests', 'test_argmax_default_axis_random', 'test_data_set_0', 'output_0.pb');
    let stdout: string;
    try {
      stdout = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', out, modelPath, tensorPath],
        { encoding: 'utf8', timeout: 30_000 });
    } finally {
      rmSync(dirname(out), { recursive: true, force: true });
    }
    const got = JSON.parse(stdout) as Record<string, unknown>;

    expect(got.evalBlocked).toBe(true);
    expect(got.functionBlocked).toBe(true);
    const m = decodeModel(readFileSync(modelPath));
    const t = decodeTensor(readFileSync(tensorPath));
    expect(t.data).toBeInstanceOf(BigInt64Array);
    expect(got).toEqual({
      evalBlocked: true, functionBlocked: true,
      nodes: m.graph.nodes.map((n) => n.opType), roundTripNodes: m.graph.nodes.length,
      inits: [...m.graph.initializers.values()].map((x) => [x.name, x.dims, Array.from(x.data as ArrayLike<unknown>, String)]),
      tensor: [t.dataType, t.dims, Array.from(t.data as ArrayLike<unknown>, String)],
    });
  });
});
