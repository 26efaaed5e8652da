// The registry of `edgenn` commands, in the order `edgenn --help` lists them. To add a command:
// write tools/cli/commands/<name>.ts exporting a Command (spec + run) and add it here. Planned:
// inspect / export / conformance (ONNX), quantize (int8), agent / broker / keygen / sign / fleet
// (devices).
import type { Command } from '../command.js';
import { trainCommand } from './train.js';
import { runCommand } from './run.js';
import { demoCommand } from './demo.js';
import { keygenCommand } from './keygen.js';
import { signCommand } from './sign.js';
import { agentCommand } from './agent.js';
import { brokerCommand } from './broker.js';
import { fleetCommand } from './fleet.js';

export const COMMANDS: readonly Command[] = [
  demoCommand,
  trainCommand,
  runCommand,
  keygenCommand,
  signCommand,
  agentCommand,
  brokerCommand,
  fleetCommand,
];
