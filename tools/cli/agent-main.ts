#!/usr/bin/env node
// The entry of the device bundle (dist/device/edgenn-agent.cjs, tools/bundle.ts): the `agent`
// command alone, with the same dispatcher, flags, help, version and exit codes as `edgenn agent`,
// so the systemd unit's command line (`... edgenn-agent.cjs agent --config FILE`) is the same for
// both files. What it is not: the CLI (run, train, broker, ... are dist/edgenn.cjs); a board runs
// the agent, and every module the agent never uses is memory it never gets back (the issue's
// budget: under 64 MB RSS on a Pi Zero 2 W, docs/raspberry-pi.md "Memory").
import { agentCommand } from './commands/agent.js';
import { isEntryPoint, runAsProcess } from './dispatch.js';

if (isEntryPoint(import.meta.url)) runAsProcess([agentCommand]);
