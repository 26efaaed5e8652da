// Over-the-air model updates, the agent's entry point: verify a signed artifact (artifact.ts),
// fetch one by reference (fetch.ts), keep models on disk crash-safely (store.ts), and judge a
// swapped-in model on probation (probation.ts). ARTIFACT.md documents the format and the store.
export {
  ARTIFACT_MAGIC, DEFAULT_MAX_ARTIFACT_BYTES, DEFAULT_MAX_MANIFEST_BYTES, MODEL_FORMATS,
  buildArtifact, canonicalJson, compareVersions, decodeArtifact, encodeManifest, isVersion, makeManifest,
  signArtifact, signedMessage, splitArtifact, unsignedArtifact, validateManifest, verifyArtifact,
  type ArtifactLimits, type ArtifactParts, type DecodedArtifact, type Manifest, type ManifestFields,
  type ModelFormatId, type TensorDim, type TensorSignature, type VerifiedArtifact, type VerifyOptions,
} from './artifact.js';
export { fetchArtifact, type FetchOptions } from './fetch.js';
export { installUpdate, type InstallOptions, type InstallResult } from './update.js';
export { formatOfPath, modelSignature, signatureMismatch, type ModelSignature } from './model-signature.js';
export { Probation, type ProbationOptions, type ProbationVerdict } from './probation.js';
export {
  generateSigningKeys, keyId, loadPrivateKey, loadPublicKey, parsePublicKey, publicKeyOf, sha256Hex, writeSigningKeys,
  PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, type PrivateKey, type PublicKey, type WrittenKeys,
} from './signing.js';
export {
  ModelStore, POINTER_FILE,
  type ModelCheck, type ModelStoreOptions, type RecoverReport, type StagedModel, type StoreState, type StoreStep, type StoredModel,
} from './store.js';
