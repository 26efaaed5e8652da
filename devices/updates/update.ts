// The whole device-side update in one call, in the only safe order: verify the artifact in memory
// (signature first; nothing touches the disk before it passes) → stage → validate (the agent's
// check: decode, shapes, smoke inference) → commit (atomic swap, old model kept as previous).
// Any failure leaves the served model and the store as they were (a staged file is deleted).
// The caller starts probation on the returned model and reports the result.
import type { PublicKey } from './signing.js';
import { verifyArtifact, type Manifest, type VerifyOptions } from './artifact.js';
import type { ModelCheck, ModelStore, StoredModel } from './store.js';

export interface InstallOptions extends VerifyOptions {
  readonly publicKeys: readonly PublicKey[];
  readonly check: ModelCheck;
}

export interface InstallResult {
  readonly installed: StoredModel;
  /** the model it replaced (now the store's previous), null on an empty store */
  readonly replaced: Manifest | null;
  readonly keyId: string;
}

export async function installUpdate(store: ModelStore, bytes: Uint8Array, opts: InstallOptions): Promise<InstallResult> {
  const verified = verifyArtifact(bytes, opts.publicKeys, opts);
  const replaced = store.current()?.manifest ?? null;
  const staged = store.stage(verified);
  await store.validate(staged, opts.check);
  return { installed: store.commit(staged), replaced, keyId: verified.keyId };
}
