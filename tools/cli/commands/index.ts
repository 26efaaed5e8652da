// The registry of `edgenn` commands, in the order `edgenn --help` lists them. To add a command:
// write tools/cli/commands/<name>.ts exporting a Command (spec + run) and add one `lazy` line here.
//
// Each command's module is imported on first use (dispatch.ts loads it by name): a command pays
// only for its own code at start-up. In the CommonJS bundle (tools/bundle.ts) esbuild turns each
// `import()` into a deferred initialiser, so `edgenn run` never evaluates mqtt or aedes and
// `edgenn agent` never evaluates the ONNX exporter or the broker. The name is repeated here so
// that dispatch can find a command without loading the others; dispatch checks that the loaded
// module's spec has the same name.
import type { LazyCommand } from '../dispatch.js';
import type { Command } from '../command.js';

function lazy(name: string, load: () => Promise<Command>): LazyCommand {
  return { spec: { name }, load };
}

export const COMMANDS: readonly LazyCommand[] = [
  lazy('demo', async () => (await import('./demo.js')).demoCommand),
  lazy('train', async () => (await import('./train.js')).trainCommand),
  lazy('run', async () => (await import('./run.js')).runCommand),
  lazy('keygen', async () => (await import('./keygen.js')).keygenCommand),
  lazy('sign', async () => (await import('./sign.js')).signCommand),
  lazy('agent', async () => (await import('./agent.js')).agentCommand),
  lazy('broker', async () => (await import('./broker.js')).brokerCommand),
  lazy('fleet', async () => (await import('./fleet.js')).fleetCommand),
  lazy('inspect', async () => (await import('./inspect.js')).inspectCommand),
  lazy('export', async () => (await import('./export.js')).exportCommand),
  lazy('conformance', async () => (await import('./conformance.js')).conformanceCommand),
  lazy('quantize', async () => (await import('./quantize.js')).quantizeCommand),
];
