// Signed artifacts: sign → verify round trip, and every way an artifact must be refused
// (unsigned, wrong key, any flipped byte, truncation at every offset, trailing bytes, oversize,
// not an artifact / unknown format, too-new minAgentVersion), each with its error code.
// No tolerances: everything here is exact (bytes, codes).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EdgennError } from '../../../runtime/errors.js';
import {
  ARTIFACT_HEADER_BYTES, buildArtifact, canonicalJson, compareVersions, encodeManifest, makeManifest, signArtifact,
  signedMessage, splitArtifact, unsignedArtifact, verifyArtifact, type VerifyOptions,
} from '../../../devices/updates/artifact.js';
import { generateSigningKeys, keyId, signBytes } from '../../../devices/updates/signing.js';
import { fieldsFor, jsonModel, sha256 } from './support.js';

const k1 = generateSigningKeys();
const k2 = generateSigningKeys();
const model = jsonModel(1);
const fields = fieldsFor(model, '1.0.0');
const signed = signArtifact(model, fields, k1.privateKey);
const opts: VerifyOptions = { agentVersion: '0.1.0' };

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof EdgennError) return e.code;
    throw e;
  }
  return 'ACCEPTED';
}

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'ACCEPTED';
}

/** The container with its manifest replaced by arbitrary bytes, signed by key. */
function resigned(manifestText: string, m = model, key = k1.privateKey): Uint8Array {
  const mb = Buffer.from(manifestText, 'utf8');
  return buildArtifact(mb, signBytes(signedMessage(mb), key), m);
}

describe('sign → verify', () => {
  it('round-trips manifest and model bytes, names the key, and is canonical', () => {
    const v = verifyArtifact(signed.bytes, [k2.publicKey, k1.publicKey], opts);
    expect(v.manifest).toEqual(signed.manifest);
    expect(Buffer.from(v.model).equals(Buffer.from(model))).toBe(true);
    expect(v.keyId).toBe(keyId(k1.publicKey));
    expect(v.manifest.sha256).toBe(sha256(model));
    expect(v.manifest.bytes).toBe(model.length);
    expect(v.manifest.inputs).toEqual([{ name: 'input', dims: [2] }]);
    expect(v.manifest.outputs).toHaveLength(1);
    expect(v.manifest.outputs[0]!.dims).toEqual([3]);
    const parts = splitArtifact(signed.bytes);
    expect(Buffer.from(parts.manifestBytes).toString()).toBe(canonicalJson(signed.manifest));
    expect(parts.signature.length).toBe(64);
    expect(Buffer.from(signed.bytes.subarray(0, 8)).toString('latin1')).toBe('EDGENNUP');
  });

  it('signatures are deterministic (Ed25519) and differ per key', () => {
    const again = signArtifact(model, fields, k1.privateKey);
    expect(Buffer.from(again.bytes).equals(Buffer.from(signed.bytes))).toBe(true);
    const other = signArtifact(model, fields, k2.privateKey);
    expect(Buffer.from(other.bytes).equals(Buffer.from(signed.bytes))).toBe(false);
  });
});

describe('rejections', () => {
  it('unsigned', () => {
    const u = unsignedArtifact(model, fields);
    expect(codeOf(() => verifyArtifact(u.bytes, [k1.publicKey], opts))).toBe('SIGNATURE');
    expect(messageOf(() => verifyArtifact(u.bytes, [k1.publicKey], opts))).toMatch(/unsigned/);
  });

  it('signed by a key that is not trusted', () => {
    expect(codeOf(() => verifyArtifact(signed.bytes, [k2.publicKey], opts))).toBe('SIGNATURE');
    expect(messageOf(() => verifyArtifact(signed.bytes, [k2.publicKey], opts))).toContain(keyId(k2.publicKey));
  });

  it('no trusted keys at all is a configuration error, not an accept', () => {
    expect(codeOf(() => verifyArtifact(signed.bytes, [], opts))).toBe('ARG');
  });

  it('a flipped byte anywhere is rejected, with the code of the region it hits', () => {
    const b = signed.bytes;
    const M = encodeManifest(signed.manifest).length;
    const manifestEnd = ARTIFACT_HEADER_BYTES + M;
    const sigStart = manifestEnd + 4;
    const modelStart = sigStart + 64;
    const counts: Record<string, number> = {};
    for (let i = 0; i < b.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const t = Uint8Array.from(b);
        t[i] = t[i]! ^ mask;
        const code = codeOf(() => verifyArtifact(t, [k1.publicKey], opts));
        counts[code] = (counts[code] ?? 0) + 1;
        if (i < 12) expect(code, `header byte ${i}`).toBe('DECODE'); // magic, container version
        else if (i < ARTIFACT_HEADER_BYTES) expect(['DECODE', 'LIMIT', 'SIGNATURE'], `manifest length byte ${i}`).toContain(code);
        else if (i < manifestEnd) expect(code, `manifest byte ${i}`).toBe('SIGNATURE');
        else if (i < sigStart) expect(['DECODE', 'SIGNATURE'], `signature length byte ${i}`).toContain(code);
        else if (i < modelStart) expect(code, `signature byte ${i}`).toBe('SIGNATURE');
        else expect(code, `model byte ${i}`).toBe('CHECKSUM');
      }
    }
    expect(counts.ACCEPTED).toBeUndefined();
    expect(counts.CHECKSUM).toBe(3 * model.length);
  });

  it('truncated at every offset: DECODE naming the part that is cut', () => {
    const b = signed.bytes;
    for (let n = 0; n < b.length; n++) {
      const msg = messageOf(() => verifyArtifact(b.subarray(0, n), [k1.publicKey], opts));
      expect(codeOf(() => verifyArtifact(b.subarray(0, n), [k1.publicKey], opts)), `length ${n}`).toBe('DECODE');
      if (n >= 8) expect(msg, `length ${n}`).toMatch(/truncated/);
    }
  });

  it('trailing bytes after the model', () => {
    const t = Buffer.concat([signed.bytes, Buffer.from([0])]);
    expect(codeOf(() => verifyArtifact(t, [k1.publicKey], opts))).toBe('DECODE');
    expect(messageOf(() => verifyArtifact(t, [k1.publicKey], opts))).toMatch(/after the model/);
  });

  it('oversize: whole artifact, and a declared manifest length, both refused before decoding', () => {
    expect(codeOf(() => verifyArtifact(signed.bytes, [k1.publicKey], { ...opts, maxArtifactBytes: signed.bytes.length - 1 }))).toBe('LIMIT');
    expect(codeOf(() => verifyArtifact(signed.bytes, [k1.publicKey], { ...opts, maxArtifactBytes: signed.bytes.length }))).toBe('ACCEPTED');
    const huge = Buffer.from(signed.bytes.subarray(0, 32));
    huge.writeUInt32LE(0xffffffff, 12); // 4 GiB manifest declared in a 32-byte buffer
    expect(codeOf(() => verifyArtifact(huge, [k1.publicKey], opts))).toBe('LIMIT');
    const M = encodeManifest(signed.manifest).length;
    expect(codeOf(() => verifyArtifact(signed.bytes, [k1.publicKey], { ...opts, maxManifestBytes: M - 1 }))).toBe('LIMIT');
  });

  it('wrong format: not an artifact, another container version, an unknown or refused model format', () => {
    expect(codeOf(() => verifyArtifact(model, [k1.publicKey], opts))).toBe('DECODE');
    expect(messageOf(() => verifyArtifact(model, [k1.publicKey], opts))).toMatch(/not an edgenn model artifact/);
    const onnx = readFileSync(new URL('../../fixtures/reference/onnx_matmul_add.onnx', import.meta.url));
    expect(codeOf(() => verifyArtifact(onnx, [k1.publicKey], opts))).toBe('DECODE');
    const v2 = Buffer.from(signed.bytes);
    v2.writeUInt32LE(2, 8);
    expect(messageOf(() => verifyArtifact(v2, [k1.publicKey], opts))).toMatch(/container version/);
    // a validly signed manifest naming a format edgenn does not know
    const text = canonicalJson({ ...signed.manifest, format: 'tflite' });
    expect(codeOf(() => verifyArtifact(resigned(text), [k1.publicKey], opts))).toBe('DECODE');
    // a known format this agent refuses
    expect(codeOf(() => verifyArtifact(signed.bytes, [k1.publicKey], { ...opts, acceptFormats: ['onnx'] }))).toBe('UNSUPPORTED');
  });

  it('signed but malformed manifests: unknown key, not canonical, wrong length, wrong hash', () => {
    const m = signed.manifest;
    expect(codeOf(() => verifyArtifact(resigned(canonicalJson({ ...m, extra: 1 })), [k1.publicKey], opts))).toBe('DECODE');
    expect(messageOf(() => verifyArtifact(resigned(JSON.stringify(m, null, 1)), [k1.publicKey], opts))).toMatch(/canonical/);
    expect(messageOf(() => verifyArtifact(resigned(canonicalJson({ ...m, bytes: m.bytes + 1 })), [k1.publicKey], opts))).toMatch(/truncated in its model/);
    expect(codeOf(() => verifyArtifact(resigned(canonicalJson({ ...m, sha256: '0'.repeat(64) })), [k1.publicKey], opts))).toBe('CHECKSUM');
    const { v: _v, ...noV } = m;
    expect(codeOf(() => verifyArtifact(resigned(canonicalJson(noV)), [k1.publicKey], opts))).toBe('DECODE');
    expect(codeOf(() => verifyArtifact(resigned('{"v":1'), [k1.publicKey], opts))).toBe('DECODE');
  });

  it('minAgentVersion above the agent is refused; equal or lower is accepted', () => {
    const a = signArtifact(model, { ...fields, minAgentVersion: '0.2.0' }, k1.privateKey).bytes;
    expect(codeOf(() => verifyArtifact(a, [k1.publicKey], { agentVersion: '0.1.9' }))).toBe('UNSUPPORTED');
    expect(messageOf(() => verifyArtifact(a, [k1.publicKey], { agentVersion: '0.1.9' }))).toMatch(/newer agent.*0\.2\.0/);
    expect(codeOf(() => verifyArtifact(a, [k1.publicKey], { agentVersion: '0.2.0-rc.1' }))).toBe('UNSUPPORTED');
    expect(codeOf(() => verifyArtifact(a, [k1.publicKey], { agentVersion: '0.2' }))).toBe('ACCEPTED');
    expect(codeOf(() => verifyArtifact(a, [k1.publicKey], { agentVersion: '1.0.0' }))).toBe('ACCEPTED');
    expect(codeOf(() => verifyArtifact(a, [k1.publicKey], { agentVersion: 'unknown' }))).toBe('ARG');
  });
});

describe('manifest and versions', () => {
  it('compareVersions orders semver-ish', () => {
    const order = ['0.0.1', '0.1.0-alpha', '0.1.0-alpha.1', '0.1.0-alpha.beta', '0.1.0-beta.2', '0.1.0-beta.11', '0.1.0-rc.1', '0.1.0', '0.2', '0.10.0', '1', 'v1.0.1', '2.0.0'];
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        expect(Math.sign(compareVersions(order[i]!, order[j]!)), `${order[i]} vs ${order[j]}`).toBe(Math.sign(i - j));
      }
    }
    expect(compareVersions('1.2', '1.2.0')).toBe(0);
    expect(compareVersions('1.2.0+build.5', '1.2.0')).toBe(0);
    expect(() => compareVersions('1.x', '1.0')).toThrow(EdgennError);
  });

  it('canonicalJson sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }], u: undefined })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
  });

  it('makeManifest refuses bad fields with ARG', () => {
    expect(codeOf(() => makeManifest(model, { ...fields, modelId: '../etc' }))).toBe('ARG');
    expect(codeOf(() => makeManifest(model, { ...fields, version: '' }))).toBe('ARG');
    expect(codeOf(() => makeManifest(model, { ...fields, minAgentVersion: 'latest' }))).toBe('ARG');
    expect(codeOf(() => makeManifest(model, { ...fields, inputs: [] }))).toBe('ARG');
    expect(codeOf(() => makeManifest(model, { ...fields, createdAt: 'yesterday' }))).toBe('ARG');
  });
});
