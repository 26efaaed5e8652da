// `edgenn keygen --out DIR [--force]`: an Ed25519 key pair for signing model artifacts:
// DIR/signing.key (PKCS#8 PEM, mode 0600: keep it off the devices) and DIR/signing.pub (SPKI PEM:
// copy it to every device's trusted keys). Refuses to overwrite either file without --force.
// The work is devices/updates/signing.ts's writeSigningKeys; this file is the CLI surface.
import { boolFlag, requiredString, type CommandSpec, type ParsedArgs } from '../args.js';
import { resolvePath, type CliIo, type Command } from '../command.js';
import { writeSigningKeys } from '../../../devices/updates/signing.js';

const spec: CommandSpec = {
  name: 'keygen',
  summary: 'make an Ed25519 key pair for signing model updates',
  usage: '--out DIR [--force]',
  description:
    'Writes DIR/signing.key (private, PEM, mode 0600) and DIR/signing.pub (public, PEM). ' +
    'Sign artifacts with the private key (edgenn sign); devices trust the public key. ' +
    'Existing key files are never overwritten without --force.',
  positionals: [],
  flags: [
    { name: 'out', kind: 'value', meta: 'DIR', help: 'folder for signing.key and signing.pub (created if missing)' },
    { name: 'force', kind: 'boolean', help: 'overwrite existing key files' },
  ],
  examples: ['edgenn keygen --out keys/'],
};

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const dir = resolvePath(io, requiredString(args, 'out', 'DIR'));
  const k = writeSigningKeys(dir, boolFlag(args, 'force'));
  io.stdout(`wrote ${k.privatePath} (private, 0600) and ${k.publicPath} (public); key id ${k.keyId}\n`);
  return 0;
}

export const keygenCommand: Command = { spec, run };
