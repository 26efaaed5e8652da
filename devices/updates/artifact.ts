// Signed model artifacts (ARTIFACT.md documents the format byte by byte): the manifest, its
// canonical encoding, the single-file container, signing, and verifyArtifact — the hostile-input
// boundary of over-the-air updates.
//
// Container (little-endian):
//   "EDGENNUP" (8) | u32 container version (1) | u32 M | manifest JSON (M bytes, canonical) |
//   u32 S | signature (S bytes: 0 = unsigned, else 64) | model bytes (to the end)
// Signed message: "edgenn-artifact-v1\0" || the manifest bytes exactly as transported. The manifest
// holds the model's SHA-256 and length, so the signature covers the model through its hash.
//
// Order of checks in verifyArtifact, so that nothing unauthenticated is interpreted beyond framing:
//   1 sizes (LIMIT) and framing (DECODE: magic, version, lengths within the buffer)
//   2 the signature over the raw manifest bytes, against each trusted key (SIGNATURE)
//   3 only then: manifest JSON, strict schema, canonical form (DECODE)
//   4 model length vs manifest (DECODE: truncated / trailing bytes), SHA-256 (CHECKSUM)
//   5 policy: format accepted, minAgentVersion <= agent version (UNSUPPORTED)
// Nothing here writes to disk; nothing is copied: model bytes are a view of the input.
//
// What it is not: no model decoding (model-signature.ts reads inputs/outputs of a model for
// `edgenn sign`; the agent's validate callback decodes and smoke-runs it), no file I/O.
import { EdgennError } from '../../runtime/errors.js';
import { ED25519_SIGNATURE_BYTES, keyId, sha256Hex, signBytes, verifyBytes, type PrivateKey, type PublicKey } from './signing.js';

export const ARTIFACT_MAGIC = 'EDGENNUP';
export const ARTIFACT_CONTAINER_VERSION = 1;
export const MANIFEST_VERSION = 1;
/** Domain separation: a signature over an artifact manifest is never valid for anything else. */
export const SIGNED_MESSAGE_TAG = 'edgenn-artifact-v1\0';
/** Bytes before the manifest: magic, container version, manifest length. */
export const ARTIFACT_HEADER_BYTES = 16;

export const DEFAULT_MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_MANIFEST_BYTES = 64 * 1024;

export const MODEL_FORMATS = ['edgenn-json', 'onnx'] as const;
export type ModelFormatId = (typeof MODEL_FORMATS)[number];

/** One dimension: a size; for ONNX also a symbolic name ('batch') or null (unknown). */
export type TensorDim = number | string | null;

export interface TensorSignature {
  readonly name: string;
  /** edgenn-json: per-sample dims (the batch is implicit); onnx: the declared shape as in the file */
  readonly dims: readonly TensorDim[];
}

export interface Manifest {
  readonly v: typeof MANIFEST_VERSION;
  readonly modelId: string;
  readonly version: string;
  readonly format: ModelFormatId;
  /** lowercase hex SHA-256 of the model bytes */
  readonly sha256: string;
  /** length of the model bytes */
  readonly bytes: number;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  /** semver-ish ("1.2", "0.3.1-rc.1"): the oldest agent that may load this model */
  readonly minAgentVersion: string;
  /** ISO 8601 UTC, e.g. 2024-05-01T12:00:00.000Z */
  readonly createdAt: string;
}

/** What the signer chooses; sha256 and bytes are computed from the model. */
export interface ManifestFields {
  readonly modelId: string;
  readonly version: string;
  readonly format: ModelFormatId;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  readonly minAgentVersion?: string;
  readonly createdAt?: string;
}

export interface ArtifactLimits {
  /** whole container; default 64 MiB */
  readonly maxArtifactBytes?: number;
  /** manifest JSON; default 64 KiB */
  readonly maxManifestBytes?: number;
}

/** The container split into its parts (views into the input; nothing copied, nothing checked
 * beyond framing). */
export interface ArtifactParts {
  readonly manifestBytes: Uint8Array;
  /** empty when unsigned */
  readonly signature: Uint8Array;
  readonly model: Uint8Array;
}

/** A container whose framing, manifest and model hash are valid (the signature is not checked:
 * the model store uses this to re-check its own files). */
export interface DecodedArtifact {
  readonly bytes: Uint8Array;
  readonly manifest: Manifest;
  readonly model: Uint8Array;
  readonly signature: Uint8Array;
}

export interface VerifiedArtifact extends DecodedArtifact {
  /** keyId() of the trusted key the signature verified with */
  readonly keyId: string;
}

export interface VerifyOptions extends ArtifactLimits {
  /** the running agent's version, compared with manifest.minAgentVersion */
  readonly agentVersion: string;
  /** formats this agent can load; default both */
  readonly acceptFormats?: readonly ModelFormatId[];
  /** named in error messages (a file path, a URL, a command id) */
  readonly source?: string;
}

// ---------------------------------------------------------------------------------------------
// versions

interface ParsedVersion { readonly nums: readonly [number, number, number]; readonly pre: readonly string[] }

const VERSION_RE = /^v?(\d{1,15})(?:\.(\d{1,15}))?(?:\.(\d{1,15}))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function isVersion(s: string): boolean {
  return VERSION_RE.test(s);
}

function parseVersion(s: string, what: string): ParsedVersion {
  const m = VERSION_RE.exec(s);
  if (m === null) {
    throw new EdgennError('ARG', `${what}: not a version`, { expected: 'MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD], e.g. 1.2.0', actual: JSON.stringify(s) });
  }
  return { nums: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre: m[4] !== undefined ? m[4].split('.') : [] };
}

/**
 * Semver-ish order: missing minor/patch count as 0 ("1.2" == "1.2.0"), a leading "v" and build
 * metadata are ignored, a pre-release sorts before its release ("1.0.0-rc.1" < "1.0.0") and
 * pre-release identifiers compare numerically when both are numbers, else as ASCII. Returns
 * <0, 0, >0. Throws EdgennError('ARG') when either is not a version.
 */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a, 'version');
  const y = parseVersion(b, 'version');
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i]! - y.nums[i]!;
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i]!;
    const q = y.pre[i]!;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1; // numeric identifiers sort first
    return p < q ? -1 : 1;
  }
  return x.pre.length - y.pre.length;
}

// ---------------------------------------------------------------------------------------------
// manifest

/** JSON with object keys sorted and no whitespace: one byte string per manifest. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new EdgennError('ARG', 'canonical JSON has no NaN/Infinity', { actual: String(v) });
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new EdgennError('ARG', `canonical JSON cannot encode a ${typeof v}`);
}

const MODEL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MODEL_VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const CREATED_AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
const MANIFEST_KEYS = ['v', 'modelId', 'version', 'format', 'sha256', 'bytes', 'inputs', 'outputs', 'minAgentVersion', 'createdAt'];
const MAX_TENSORS = 256;
const MAX_RANK = 16;
const MAX_DIM = 2 ** 31 - 1;

function badManifest(where: string, message: string, source: string | undefined, expected?: string, actual?: unknown): EdgennError {
  const ctx: { file?: string; expected?: string; actual?: string } = {};
  if (source !== undefined) ctx.file = source;
  if (expected !== undefined) ctx.expected = expected;
  if (actual !== undefined) ctx.actual = typeof actual === 'string' ? JSON.stringify(actual.length > 80 ? `${actual.slice(0, 80)}...` : actual) : String(JSON.stringify(actual) ?? typeof actual).slice(0, 80);
  return new EdgennError('DECODE', `manifest ${where}: ${message}`, ctx);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkTensors(where: string, v: unknown, source: string | undefined): TensorSignature[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_TENSORS) throw badManifest(where, 'bad tensor list', source, `an array of 1..${MAX_TENSORS} {name, dims}`, v);
  return v.map((t, i): TensorSignature => {
    const at = `${where}[${i}]`;
    if (!isPlainObject(t)) throw badManifest(at, 'not an object', source, '{name, dims}', t);
    for (const k of Object.keys(t)) if (k !== 'name' && k !== 'dims') throw badManifest(at, `unknown key ${JSON.stringify(k)}`, source, 'keys name, dims');
    const name = t.name;
    // eslint-disable-next-line no-control-regex
    if (typeof name !== 'string' || name.length === 0 || name.length > 256 || /[\u0000-\u001f]/.test(name)) {
      throw badManifest(`${at}.name`, 'bad tensor name', source, 'a string of 1..256 printable characters', name);
    }
    const dims = t.dims;
    if (!Array.isArray(dims) || dims.length > MAX_RANK) throw badManifest(`${at}.dims`, 'bad dims', source, `an array of at most ${MAX_RANK} dims`, dims);
    for (const d of dims) {
      const ok = d === null || (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0 && d <= MAX_DIM) ||
        (typeof d === 'string' && d.length > 0 && d.length <= 64);
      if (!ok) throw badManifest(`${at}.dims`, 'bad dim', source, 'integers in [0, 2^31), symbolic names or null', d);
    }
    return { name, dims: dims as TensorDim[] };
  });
}

/** Checks a parsed manifest against the v1 schema (unknown keys rejected); throws 'DECODE'. */
export function validateManifest(v: unknown, source?: string): Manifest {
  if (!isPlainObject(v)) throw badManifest('', 'not a JSON object', source, 'an object', v);
  for (const k of Object.keys(v)) if (!MANIFEST_KEYS.includes(k)) throw badManifest('', `unknown key ${JSON.stringify(k)}`, source, `keys among ${MANIFEST_KEYS.join(', ')}`);
  for (const k of MANIFEST_KEYS) if (!(k in v)) throw badManifest('', `missing key ${JSON.stringify(k)}`, source);
  if (v.v !== MANIFEST_VERSION) throw badManifest('.v', 'unsupported manifest version', source, String(MANIFEST_VERSION), v.v);
  const str = (k: string, re: RegExp, expected: string): string => {
    const s = v[k];
    if (typeof s !== 'string' || !re.test(s)) throw badManifest(`.${k}`, 'bad value', source, expected, s);
    return s;
  };
  const modelId = str('modelId', MODEL_ID_RE, 'letters, digits, ".", "_", "-" (at most 128)');
  const version = str('version', MODEL_VERSION_RE, 'letters, digits, ".", "_", "+", "-" (at most 64)');
  const format = v.format;
  if (typeof format !== 'string' || !(MODEL_FORMATS as readonly string[]).includes(format)) {
    throw badManifest('.format', 'unknown model format', source, `one of ${MODEL_FORMATS.join(', ')}`, format);
  }
  const sha256 = str('sha256', SHA256_RE, '64 lowercase hex digits');
  const bytes = v.bytes;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) throw badManifest('.bytes', 'bad value', source, 'an integer >= 1', bytes);
  const inputs = checkTensors('.inputs', v.inputs, source);
  const outputs = checkTensors('.outputs', v.outputs, source);
  const minAgentVersion = v.minAgentVersion;
  if (typeof minAgentVersion !== 'string' || !isVersion(minAgentVersion)) throw badManifest('.minAgentVersion', 'bad value', source, 'a version such as 1.2.0', minAgentVersion);
  const createdAt = str('createdAt', CREATED_AT_RE, 'ISO 8601 UTC, e.g. 2024-05-01T12:00:00.000Z');
  if (!Number.isFinite(Date.parse(createdAt))) throw badManifest('.createdAt', 'not a date', source, 'a valid date', createdAt);
  return { v: MANIFEST_VERSION, modelId, version, format: format as ModelFormatId, sha256, bytes, inputs, outputs, minAgentVersion, createdAt };
}

/** The manifest of `model` (hash and length computed); validated like a received one. */
export function makeManifest(model: Uint8Array, fields: ManifestFields): Manifest {
  const m = {
    v: MANIFEST_VERSION, modelId: fields.modelId, version: fields.version, format: fields.format,
    sha256: sha256Hex(model), bytes: model.length, inputs: fields.inputs, outputs: fields.outputs,
    minAgentVersion: fields.minAgentVersion ?? '0.0.0', createdAt: fields.createdAt ?? new Date().toISOString(),
  };
  try {
    return validateManifest(JSON.parse(JSON.stringify(m)) as unknown);
  } catch (e) {
    // the message already names expected/actual: keep it, change only the code (a signer's mistake)
    if (e instanceof EdgennError) throw new EdgennError('ARG', e.message.replace(/^manifest/, 'manifest field'));
    throw e;
  }
}

export function encodeManifest(m: Manifest): Uint8Array {
  return Buffer.from(canonicalJson(m), 'utf8');
}

/** The bytes an artifact signature covers. */
export function signedMessage(manifestBytes: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(SIGNED_MESSAGE_TAG, 'latin1'), manifestBytes]);
}

// ---------------------------------------------------------------------------------------------
// container

/** Assembles a container; signature empty (or null) = unsigned. */
export function buildArtifact(manifestBytes: Uint8Array, signature: Uint8Array | null, model: Uint8Array): Uint8Array {
  const sig = signature ?? new Uint8Array(0);
  const out = Buffer.alloc(ARTIFACT_HEADER_BYTES + manifestBytes.length + 4 + sig.length + model.length);
  out.write(ARTIFACT_MAGIC, 0, 'latin1');
  out.writeUInt32LE(ARTIFACT_CONTAINER_VERSION, 8);
  out.writeUInt32LE(manifestBytes.length, 12);
  out.set(manifestBytes, ARTIFACT_HEADER_BYTES);
  let off = ARTIFACT_HEADER_BYTES + manifestBytes.length;
  out.writeUInt32LE(sig.length, off);
  off += 4;
  out.set(sig, off);
  out.set(model, off + sig.length);
  return out;
}

/** Signs model with key: returns the container and its manifest. */
export function signArtifact(model: Uint8Array, fields: ManifestFields, key: PrivateKey): { bytes: Uint8Array; manifest: Manifest } {
  const manifest = makeManifest(model, fields);
  const mb = encodeManifest(manifest);
  return { bytes: buildArtifact(mb, signBytes(signedMessage(mb), key), model), manifest };
}

/** An unsigned container (the store's form of a locally installed model). */
export function unsignedArtifact(model: Uint8Array, fields: ManifestFields): { bytes: Uint8Array; manifest: Manifest } {
  const manifest = makeManifest(model, fields);
  return { bytes: buildArtifact(encodeManifest(manifest), null, model), manifest };
}

function limitsOf(l: ArtifactLimits): { maxArtifact: number; maxManifest: number } {
  return { maxArtifact: l.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES, maxManifest: l.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES };
}

function decodeError(message: string, source: string | undefined, expected?: string, actual?: string): EdgennError {
  const ctx: { file?: string; expected?: string; actual?: string } = {};
  if (source !== undefined) ctx.file = source;
  if (expected !== undefined) ctx.expected = expected;
  if (actual !== undefined) ctx.actual = actual;
  return new EdgennError('DECODE', message, ctx);
}

/** Framing only: magic, container version, lengths within the buffer and the limits. */
export function splitArtifact(bytes: Uint8Array, limits: ArtifactLimits = {}, source?: string): ArtifactParts {
  const { maxArtifact, maxManifest } = limitsOf(limits);
  const at = source !== undefined ? { file: source } : {};
  if (bytes.length > maxArtifact) {
    throw new EdgennError('LIMIT', 'artifact is too large', { ...at, expected: `at most ${maxArtifact} bytes`, actual: `${bytes.length} bytes` });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLen = Math.min(8, bytes.length);
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, magicLen).toString('latin1');
  if (magic !== ARTIFACT_MAGIC.slice(0, magicLen) || bytes.length === 0) {
    throw decodeError('not an edgenn model artifact (bad magic)', source, `bytes starting with ${JSON.stringify(ARTIFACT_MAGIC)}`, JSON.stringify(magic.replace(/[^\x20-\x7e]/g, '.')));
  }
  if (bytes.length < ARTIFACT_HEADER_BYTES) {
    throw decodeError('artifact truncated in its header', source, `at least ${ARTIFACT_HEADER_BYTES} bytes`, `${bytes.length} bytes`);
  }
  const cv = dv.getUint32(8, true);
  if (cv !== ARTIFACT_CONTAINER_VERSION) {
    throw decodeError('unsupported artifact container version', source, String(ARTIFACT_CONTAINER_VERSION), String(cv));
  }
  const M = dv.getUint32(12, true);
  if (M > maxManifest) {
    throw new EdgennError('LIMIT', 'artifact manifest is too large', { ...at, expected: `at most ${maxManifest} bytes`, actual: `${M} bytes` });
  }
  if (M === 0) throw decodeError('artifact has an empty manifest', source);
  let off = ARTIFACT_HEADER_BYTES;
  if (bytes.length < off + M + 4) {
    throw decodeError('artifact truncated in its manifest', source, `at least ${off + M + 4} bytes`, `${bytes.length} bytes`);
  }
  const manifestBytes = bytes.subarray(off, off + M);
  off += M;
  const S = dv.getUint32(off, true);
  off += 4;
  if (S !== 0 && S !== ED25519_SIGNATURE_BYTES) {
    throw decodeError('bad signature length', source, `0 (unsigned) or ${ED25519_SIGNATURE_BYTES} (Ed25519)`, String(S));
  }
  if (bytes.length < off + S) {
    throw decodeError('artifact truncated in its signature', source, `at least ${off + S} bytes`, `${bytes.length} bytes`);
  }
  return { manifestBytes, signature: bytes.subarray(off, off + S), model: bytes.subarray(off + S) };
}

function parseManifestBytes(mb: Uint8Array, source: string | undefined): Manifest {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(mb);
  } catch {
    throw decodeError('manifest is not UTF-8', source);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw decodeError(`manifest is not JSON: ${(e as Error).message}`, source);
  }
  const m = validateManifest(v, source);
  // One byte string per manifest: what was signed is exactly what is read.
  if (canonicalJson(m) !== text) throw decodeError('manifest is not in canonical form (sorted keys, no whitespace)', source);
  return m;
}

function checkModel(parts: ArtifactParts, m: Manifest, source: string | undefined): void {
  const n = parts.model.length;
  if (n < m.bytes) throw decodeError('artifact truncated in its model bytes', source, `${m.bytes} model bytes (manifest)`, `${n}`);
  if (n > m.bytes) throw decodeError('artifact has bytes after the model', source, `${m.bytes} model bytes (manifest)`, `${n}`);
  const h = sha256Hex(parts.model);
  if (h !== m.sha256) {
    throw new EdgennError('CHECKSUM', 'model bytes do not match the manifest hash', { ...(source !== undefined ? { file: source } : {}), expected: `sha256 ${m.sha256}`, actual: h });
  }
}

/** Framing, manifest and model hash, WITHOUT the signature: for the store's own files, which were
 * verified when they were received. Throws DECODE / CHECKSUM / LIMIT. */
export function decodeArtifact(bytes: Uint8Array, limits: ArtifactLimits = {}, source?: string): DecodedArtifact {
  const parts = splitArtifact(bytes, limits, source);
  const manifest = parseManifestBytes(parts.manifestBytes, source);
  checkModel(parts, manifest, source);
  return { bytes, manifest, model: parts.model, signature: parts.signature };
}

/**
 * Verifies an artifact received over the air. Throws EdgennError:
 *   LIMIT       larger than maxArtifactBytes, or a manifest larger than maxManifestBytes
 *   DECODE      not an artifact, truncated, trailing bytes, malformed or non-canonical manifest
 *   SIGNATURE   unsigned, or the signature verifies with none of publicKeys
 *   CHECKSUM    model bytes do not hash to the manifest's sha256
 *   UNSUPPORTED a format this agent does not accept, or minAgentVersion above agentVersion
 *   ARG         no trusted keys, or agentVersion is not a version
 * Reads nothing but `bytes`, writes nothing anywhere.
 */
export function verifyArtifact(bytes: Uint8Array, publicKeys: readonly PublicKey[], opts: VerifyOptions): VerifiedArtifact {
  const source = opts.source;
  const at = source !== undefined ? { file: source } : {};
  if (publicKeys.length === 0) throw new EdgennError('ARG', 'no trusted public keys configured: every artifact would be rejected', at);
  if (!isVersion(opts.agentVersion)) throw new EdgennError('ARG', 'agent version is not a version', { ...at, expected: 'e.g. 0.1.0', actual: JSON.stringify(opts.agentVersion) });
  const parts = splitArtifact(bytes, opts, source);
  if (parts.signature.length === 0) throw new EdgennError('SIGNATURE', 'artifact is unsigned', { ...at, expected: `an Ed25519 signature by one of ${publicKeys.length} trusted key(s)` });
  const msg = signedMessage(parts.manifestBytes);
  const key = publicKeys.find((k) => verifyBytes(msg, parts.signature, k));
  if (key === undefined) {
    throw new EdgennError('SIGNATURE', 'signature does not verify with any trusted key (wrong key or tampered manifest/signature)',
      { ...at, expected: `a signature by one of: ${publicKeys.map(keyId).join(', ')}` });
  }
  const manifest = parseManifestBytes(parts.manifestBytes, source);
  checkModel(parts, manifest, source);
  const accept = opts.acceptFormats ?? MODEL_FORMATS;
  if (!accept.includes(manifest.format)) {
    throw new EdgennError('UNSUPPORTED', `this agent does not load ${manifest.format} models`, { ...at, expected: `one of ${accept.join(', ')}`, actual: manifest.format });
  }
  if (compareVersions(opts.agentVersion, manifest.minAgentVersion) < 0) {
    throw new EdgennError('UNSUPPORTED', 'the model needs a newer agent', { ...at, expected: `agent >= ${manifest.minAgentVersion}`, actual: opts.agentVersion });
  }
  return { bytes, manifest, model: parts.model, signature: parts.signature, keyId: keyId(key) };
}
