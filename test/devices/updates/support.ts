// Shared pieces of the model-update tests (not a test file): small JSON models that differ by
// their weights, a key pair, a directory snapshot (to prove nothing was written), the agent-like
// check callback (decode + compile + smoke inference with finite outputs), and bundling a child
// script with esbuild (no TS loader for child processes here; as test/devices/telemetry does).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { jsonModelGraph, parseJsonModel, stringifyJsonModel, type JsonModelSpec } from '../../../importers/json-model.js';
import { compile } from '../../../runtime/model.js';
import { EdgennError } from '../../../runtime/errors.js';
import type { Manifest, ManifestFields } from '../../../devices/updates/artifact.js';
import { modelSignature } from '../../../devices/updates/model-signature.js';

/** A dense 2 -> H -> 3 JSON model whose weights are a deterministic function of `seed`. */
export function jsonModel(seed: number, hidden = 8): Uint8Array {
  let s = (seed * 2654435761 + 12345) >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.round(((s / 2 ** 32) * 2 - 1) * 1000) / 1000;
  };
  const arr = (n: number): number[] => Array.from({ length: n }, rnd);
  const spec: JsonModelSpec = {
    format: 'edgenn-model', version: 1, input: { name: 'input', dims: [2] }, seed: 0,
    layers: [
      { type: 'dense', out: hidden, weight: arr(hidden * 2), biasData: arr(hidden) },
      { type: 'relu' },
      { type: 'dense', out: 3, weight: arr(3 * hidden), biasData: arr(3) },
    ],
  };
  return Buffer.from(stringifyJsonModel(spec), 'utf8');
}

/** Manifest fields of a JSON model (inputs/outputs read from the model itself). */
export function fieldsFor(model: Uint8Array, version: string, extra: Partial<ManifestFields> = {}): ManifestFields {
  const sig = modelSignature(model, 'edgenn-json');
  return { modelId: 'sectors', version, format: 'edgenn-json', inputs: sig.inputs, outputs: sig.outputs, minAgentVersion: '0.1.0', createdAt: '2024-05-01T12:00:00.000Z', ...extra };
}

/** What the agent's validate callback does: decode, shapes vs config, smoke inference, finite. */
export async function agentCheck(model: Uint8Array, manifest: Manifest): Promise<void> {
  const spec = parseJsonModel(Buffer.from(model).toString('utf8'), manifest.modelId);
  const g = jsonModelGraph(spec);
  const inDims = g.values[g.inputs[0]!]!.dims;
  if (inDims.length !== 1 || inDims[0] !== 2) throw new EdgennError('SHAPE', 'input dims differ from the configuration', { expected: '[2]', actual: `[${inDims.join(', ')}]` });
  const m = compile(g, { maxBatch: 2 });
  const y = m.run(new Float32Array([0.5, -0.25, 1, 2]), 2);
  for (let i = 0; i < 6; i++) if (!Number.isFinite(y[i]!)) throw new EdgennError('DATA', 'smoke inference gave a non-finite output');
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Every file under dir (relative path -> sha256 of content), directories as 'dir'. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out.set(r, 'dir');
        walk(p, r);
      } else {
        out.set(r, sha256(fs.readFileSync(p)));
      }
    }
  };
  walk(dir, '');
  return out;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Bundles a TS entry (next to this file) into one CommonJS file runnable by process.execPath. */
export async function bundleScript(entry: string): Promise<{ file: string; dir: string }> {
  const dir = tempDir('edgenn-upd-child-');
  const file = path.join(dir, `${path.basename(entry, '.ts')}.cjs`);
  await build({
    entryPoints: [path.join(path.dirname(new URL(import.meta.url).pathname), entry)],
    bundle: true, platform: 'node', format: 'cjs', target: 'node18', outfile: file, logLevel: 'silent',
  });
  return { file, dir };
}
