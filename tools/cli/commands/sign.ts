// `edgenn sign <model> --key FILE --version V [--model-id ID] [--min-agent-version X] --out FILE`:
// wraps a model file (.json edgenn model or .onnx) into a signed artifact (devices/updates/
// ARTIFACT.md). The model is decoded first (importers/json-model.ts or importers/onnx/decode.ts)
// to fill the manifest's inputs/outputs and to refuse a file that is not a valid model; the
// artifact is verified with the key's public half before it is written (atomically).
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { EdgennError } from '../../../runtime/errors.js';
import { DEFAULT_MAX_ARTIFACT_BYTES, isVersion, signArtifact, verifyArtifact } from '../../../devices/updates/artifact.js';
import { formatOfPath, modelSignature } from '../../../devices/updates/model-signature.js';
import { keyId, loadPrivateKey, publicKeyOf } from '../../../devices/updates/signing.js';
import { requiredString, stringFlag, usageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { writeFileAtomic } from '../atomic-write.js';
import { resolvePath, type CliIo, type Command } from '../command.js';

const spec: CommandSpec = {
  name: 'sign',
  summary: 'sign a model file into an update artifact for devices',
  usage: '<model> --key FILE --version V [--model-id ID] [--min-agent-version X] --out FILE',
  description:
    '<model> is an edgenn JSON model (.json) or an ONNX model (.onnx). The artifact holds a manifest ' +
    '(model id, version, SHA-256, input/output names and dims, minimum agent version, creation time), ' +
    'an Ed25519 signature and the model bytes (see devices/updates/ARTIFACT.md).',
  positionals: [{ name: 'model', help: 'the model file (.json or .onnx)', required: true }],
  flags: [
    { name: 'key', kind: 'value', meta: 'FILE', help: 'the private key (signing.key from edgenn keygen)' },
    { name: 'version', kind: 'value', meta: 'V', help: 'the model version (letters, digits, . _ + -)' },
    { name: 'model-id', kind: 'value', meta: 'ID', help: 'the model id (default: the file name without extension)' },
    { name: 'min-agent-version', kind: 'value', meta: 'X', help: 'oldest agent that may load it (default 0.0.0)' },
    { name: 'out', kind: 'value', meta: 'FILE', help: 'the artifact file to write (e.g. model-1.2.edgennup)' },
  ],
  examples: ['edgenn sign model.json --key keys/signing.key --version 1.2.0 --out model-1.2.0.edgennup'],
};

function readModel(path: string): Uint8Array {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new EdgennError('IO', 'not a regular file', { file: path });
    if (st.size > DEFAULT_MAX_ARTIFACT_BYTES) {
      throw new EdgennError('LIMIT', 'model file is too large for an artifact', { file: path, expected: `at most ${DEFAULT_MAX_ARTIFACT_BYTES} bytes`, actual: `${st.size} bytes` });
    }
    return readFileSync(path);
  } catch (e) {
    if (e instanceof EdgennError) throw e;
    throw new EdgennError('IO', `cannot read model: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const modelPath = resolvePath(io, args.positionals[0]!);
  const keyPath = resolvePath(io, requiredString(args, 'key', 'FILE'));
  const version = requiredString(args, 'version', 'V');
  const out = resolvePath(io, requiredString(args, 'out', 'FILE'));
  const minAgentVersion = stringFlag(args, 'min-agent-version') ?? '0.0.0';
  if (!isVersion(minAgentVersion)) throw usageError('--min-agent-version: not a version', 'e.g. 0.2.0', JSON.stringify(minAgentVersion));
  const modelId = stringFlag(args, 'model-id') ?? basename(modelPath, extname(modelPath));
  const format = formatOfPath(modelPath);
  const key = loadPrivateKey(keyPath);
  const model = readModel(modelPath);
  const sig = modelSignature(model, format, modelPath);
  const { bytes, manifest } = signArtifact(model, { modelId, version, format, inputs: sig.inputs, outputs: sig.outputs, minAgentVersion }, key);
  // the artifact must pass exactly what a device runs before it leaves this machine
  verifyArtifact(bytes, [publicKeyOf(key)], { agentVersion: minAgentVersion, source: out });
  writeFileAtomic(out, bytes);
  const dims = (t: { name: string; dims: readonly unknown[] }): string => `${t.name}[${t.dims.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
  io.stdout(`wrote ${out}: ${manifest.modelId} ${manifest.version} (${manifest.format}, ${manifest.bytes} bytes, sha256 ${manifest.sha256.slice(0, 16)}...), ` +
    `inputs ${manifest.inputs.map(dims).join(' ')}, outputs ${manifest.outputs.map(dims).join(' ')}, key id ${keyId(key)}\n`);
  return 0;
}

export const signCommand: Command = { spec, run };
