// The agent's version, as telemetry reports it and as an update's minAgentVersion is compared
// against. A constant (not read from package.json) because the agent also runs as a single bundled
// file with no package.json beside it; test/devices/agent/version.test.ts fails when the two differ.
export const AGENT_VERSION = '0.1.0';
