// Ed25519 keys, signatures and SHA-256 for model artifacts: the one file of devices/updates that
// imports node:crypto, so the primitive can be swapped or mocked at one seam.
//
// What it is: key generation, PEM reading/writing (private key file 0600, never readable by
// others even for an instant: created with that mode, then renamed into place), sign / verify over
// raw bytes, a short key id (first 16 hex digits of SHA-256 over the public key's SPKI DER) that
// names a key in messages and telemetry without revealing anything.
// What it is not: it does not know the artifact layout (artifact.ts builds the signed message).
import {
  createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EdgennError } from '../../runtime/errors.js';
import { writeFileAtomicSync } from '../../runtime/train/atomic-write.js';

export const PRIVATE_KEY_FILE = 'signing.key';
export const PUBLIC_KEY_FILE = 'signing.pub';
/** An Ed25519 signature is always 64 bytes (RFC 8032). */
export const ED25519_SIGNATURE_BYTES = 64;
/** PEM key files larger than this are not keys; refused before reading. */
const MAX_KEY_FILE_BYTES = 16 * 1024;

export type PublicKey = KeyObject;
export type PrivateKey = KeyObject;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Short, stable name of a public key (or of the public half of a private key). */
export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return sha256Hex(pub.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

/** The public half of a private key. */
export function publicKeyOf(key: PrivateKey): PublicKey {
  return createPublicKey(key);
}

export function generateSigningKeys(): { privateKey: PrivateKey; publicKey: PublicKey } {
  return generateKeyPairSync('ed25519');
}

/** Ed25519 signature of data (the algorithm takes no separate digest: null). */
export function signBytes(data: Uint8Array, key: PrivateKey): Uint8Array {
  return edSign(null, data, key);
}

/** True when sig is a valid signature of data by key; never throws on malformed signatures. */
export function verifyBytes(data: Uint8Array, sig: Uint8Array, key: PublicKey): boolean {
  if (sig.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return edVerify(null, data, key, sig);
  } catch {
    return false;
  }
}

function readPem(path: string, what: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new EdgennError('IO', `cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
  if (size > MAX_KEY_FILE_BYTES) {
    throw new EdgennError('LIMIT', `${what} file is too large to be a key`, { file: path, expected: `at most ${MAX_KEY_FILE_BYTES} bytes`, actual: `${size} bytes` });
  }
  return readFileSync(path, 'utf8');
}

export function parsePublicKey(pem: string, file = '<public key>'): PublicKey {
  let k: KeyObject;
  try {
    k = createPublicKey(pem);
  } catch (e) {
    throw new EdgennError('DECODE', `not a PEM public key: ${(e as Error).message}`, { file });
  }
  if (k.asymmetricKeyType !== 'ed25519') {
    throw new EdgennError('UNSUPPORTED', 'public key is not an Ed25519 key', { file, expected: 'ed25519', actual: String(k.asymmetricKeyType) });
  }
  return k;
}

export function loadPublicKey(path: string): PublicKey {
  return parsePublicKey(readPem(path, 'public key'), path);
}

export function loadPrivateKey(path: string): PrivateKey {
  const pem = readPem(path, 'private key');
  let k: KeyObject;
  try {
    k = createPrivateKey(pem);
  } catch (e) {
    // NOTE: never echo the file's contents: it is a secret
    throw new EdgennError('DECODE', `not a PEM private key (${(e as Error).message.split('\n')[0]})`, { file: path });
  }
  if (k.asymmetricKeyType !== 'ed25519') {
    throw new EdgennError('UNSUPPORTED', 'private key is not an Ed25519 key', { file: path, expected: 'ed25519', actual: String(k.asymmetricKeyType) });
  }
  return k;
}

export interface WrittenKeys {
  readonly privatePath: string;
  readonly publicPath: string;
  readonly keyId: string;
}

/**
 * Generates a key pair into dir: signing.key (PKCS#8 PEM, mode 0600) and signing.pub (SPKI PEM,
 * 0644). Refuses (EdgennError 'IO') when either exists, unless force.
 */
export function writeSigningKeys(dir: string, force = false): WrittenKeys {
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new EdgennError('IO', `cannot create the key folder: ${(e as Error).message}`, { file: dir });
  }
  if (!force) {
    for (const p of [privatePath, publicPath]) {
      if (existsSync(p)) throw new EdgennError('IO', 'refusing to overwrite an existing key (use --force)', { file: p });
    }
  }
  const { privateKey, publicKey } = generateSigningKeys();
  writeFileAtomicSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  writeFileAtomicSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }) as string);
  return { privatePath, publicPath, keyId: keyId(publicKey) };
}
