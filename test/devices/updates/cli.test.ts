// `edgenn keygen` and `edgenn sign`, run in-process through runCli: key files and their modes,
// no overwrite without --force, artifacts that verify with the written public key, manifests whose
// inputs/outputs match the model (every ONNX fixture of test/fixtures/reference, and a JSON
// model), and bad input exiting with code 2 and a one-line message. Exact checks, no tolerances.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../../importers/onnx/decode.js';
import { verifyArtifact } from '../../../devices/updates/artifact.js';
import { keyId, loadPublicKey } from '../../../devices/updates/signing.js';
import { cli, tempDir } from '../../tools/cli/support.js';
import { jsonModel, sha256 } from './support.js';

const t = tempDir('edgenn-sign-cli-');
afterAll(() => t.cleanup());
const fixtures = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/reference');

describe('edgenn keygen', () => {
  it('writes a 0600 private key and a public key, refuses to overwrite without --force', async () => {
    const r = await cli(['keygen', '--out', 'keys'], t.dir);
    expect(r.code, r.stderr).toBe(0);
    const key = t.path('keys/signing.key');
    const pub = t.path('keys/signing.pub');
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(fs.readFileSync(pub, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(r.stdout).toContain(keyId(loadPublicKey(pub)));
    expect(r.stdout).not.toContain('PRIVATE KEY');
    const before = fs.readFileSync(key);
    const again = await cli(['keygen', '--out', 'keys'], t.dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^edgenn keygen: .*refusing to overwrite/);
    expect(fs.readFileSync(key).equals(before)).toBe(true);
    const forced = await cli(['keygen', '--out', 'keys', '--force'], t.dir);
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(key).equals(before)).toBe(false);
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    expect((await cli(['keygen'], t.dir)).code).toBe(2);
  });
});

describe('edgenn sign', () => {
  it('a JSON model: the artifact verifies and its manifest describes the model', async () => {
    await cli(['keygen', '--out', 'k1'], t.dir);
    const m = jsonModel(3);
    t.write('sectors.json', m);
    const r = await cli(['sign', 'sectors.json', '--key', 'k1/signing.key', '--version', '1.2.0', '--min-agent-version', '0.1.0', '--out', 'sectors.edgennup'], t.dir);
    expect(r.code, r.stderr).toBe(0);
    const v = verifyArtifact(fs.readFileSync(t.path('sectors.edgennup')), [loadPublicKey(t.path('k1/signing.pub'))], { agentVersion: '0.1.0' });
    expect(v.manifest).toMatchObject({ modelId: 'sectors', version: '1.2.0', format: 'edgenn-json', minAgentVersion: '0.1.0', bytes: m.length, sha256: sha256(m) });
    expect(v.manifest.inputs).toEqual([{ name: 'input', dims: [2] }]);
    expect(v.manifest.outputs.map((o) => o.dims)).toEqual([[3]]);
    expect(Date.now() - Date.parse(v.manifest.createdAt)).toBeLessThan(60_000);
    const id = await cli(['sign', 'sectors.json', '--key', 'k1/signing.key', '--version', '2', '--model-id', 'other', '--out', 'o.edgennup'], t.dir);
    expect(id.code).toBe(0);
    expect(verifyArtifact(fs.readFileSync(t.path('o.edgennup')), [loadPublicKey(t.path('k1/signing.pub'))], { agentVersion: '0.0.1' }).manifest)
      .toMatchObject({ modelId: 'other', version: '2', minAgentVersion: '0.0.0' });
  });

  it('every ONNX fixture: signed with the graph inputs (initializers excluded) and outputs, or refused with code 2', async () => {
    await cli(['keygen', '--out', 'k2'], t.dir);
    const pub = loadPublicKey(t.path('k2/signing.pub'));
    const files = fs.readdirSync(fixtures).filter((f) => f.endsWith('.onnx'));
    expect(files.length).toBeGreaterThan(0);
    let signed = 0;
    for (const f of files) {
      const bytes = fs.readFileSync(path.join(fixtures, f));
      let graph: ReturnType<typeof decodeModel>['graph'] | null = null;
      try { graph = decodeModel(bytes).graph; } catch { graph = null; }
      const out = `${f}.edgennup`;
      const r = await cli(['sign', path.join(fixtures, f), '--key', 'k2/signing.key', '--version', '1', '--out', out], t.dir);
      if (graph === null) {
        expect(r.code, f).toBe(2);
        continue;
      }
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
      const v = verifyArtifact(fs.readFileSync(t.path(out)), [pub], { agentVersion: '0.1.0' });
      expect(v.manifest.format).toBe('onnx');
      expect(v.manifest.modelId).toBe(f.replace(/\.onnx$/, ''));
      const ins = graph.inputs.filter((i) => !graph!.initializers.has(i.name));
      expect(v.manifest.inputs, f).toEqual(ins.map((i) => ({ name: i.name, dims: i.shape ?? [] })));
      expect(v.manifest.outputs, f).toEqual(graph.outputs.map((o) => ({ name: o.name, dims: o.shape ?? [] })));
      signed++;
    }
    expect(signed).toBeGreaterThan(0);
  });

  it('bad input exits 2 with one line naming the problem, and writes no artifact', async () => {
    await cli(['keygen', '--out', 'k3'], t.dir);
    t.write('m.json', jsonModel(4));
    t.write('bad.json', '{"format": "edgenn-model", "version": 1, "layers": []}');
    t.write('m.tflite', 'x');
    const cases: [string[], RegExp][] = [
      [['sign', 'bad.json', '--key', 'k3/signing.key', '--version', '1', '--out', 'x1'], /bad\.json/],
      [['sign', 'm.tflite', '--key', 'k3/signing.key', '--version', '1', '--out', 'x2'], /extension/],
      [['sign', 'm.json', '--key', 'k3/signing.pub', '--version', '1', '--out', 'x3'], /private key/],
      [['sign', 'm.json', '--key', 'k3/none.key', '--version', '1', '--out', 'x4'], /cannot read private key/],
      [['sign', 'm.json', '--key', 'k3/signing.key', '--version', 'a b', '--out', 'x5'], /version/],
      [['sign', 'm.json', '--key', 'k3/signing.key', '--version', '1', '--min-agent-version', 'new', '--out', 'x6'], /min-agent-version/],
      [['sign', 'm.json', '--key', 'k3/signing.key', '--out', 'x7'], /--version/],
      [['sign', 'missing.json', '--key', 'k3/signing.key', '--version', '1', '--out', 'x8'], /cannot read model/],
    ];
    for (const [argv, msg] of cases) {
      const r = await cli(argv, t.dir);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(fs.existsSync(t.path(argv[argv.length - 1]!)), argv.join(' ')).toBe(false);
    }
  });

  it('both commands are listed by edgenn --help', async () => {
    const r = await cli(['--help'], t.dir);
    expect(r.stdout).toMatch(/keygen\s+make an Ed25519 key pair/);
    expect(r.stdout).toMatch(/sign\s+sign a model file/);
  });
});
