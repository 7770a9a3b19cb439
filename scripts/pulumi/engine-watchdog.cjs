// Preloaded (`node --require`) into the Node.js dynamic provider host by the launcher
// pulumi-resource-pulumi-nodejs that scripts/pulumi/ensure-pulumi.sh writes. The engine starts
// that host as its own child, in a process group of its own; when the engine dies (a killed
// worker takes its `pulumi` with it), nothing else would ever stop the provider. So: when our
// parent is no longer the process that started us, exit.
"use strict";

const engine = process.ppid;
const everyMs = Number(process.env.TENANCY_ENGINE_WATCH_MS) || 500;

if (engine > 1) {
  setInterval(() => {
    if (process.ppid !== engine) process.exit(70);
  }, everyMs).unref();
}
