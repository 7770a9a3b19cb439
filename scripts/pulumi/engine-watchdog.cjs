// Preloaded (`node --require`) into the Node.js dynamic provider host by the launcher
// pulumi-resource-pulumi-nodejs that scripts/pulumi/ensure-pulumi.sh writes. The engine starts
// that host as its own child, in a process group of its own; when the engine dies (a killed
// worker takes its `pulumi` with it), nothing else would ever stop the provider. So the
// provider exits when either
//   - its parent is no longer the engine (TENANCY_ENGINE_PID, the launcher's $PPID: the
//     engine may already be gone by the time node starts), or
//   - the engine's gRPC address (the provider's argument) refuses connections twice in a row.
"use strict";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS preload
const net = require("node:net");

const everyMs = Number(process.env.TENANCY_ENGINE_WATCH_MS) || 500;
const engine = Number(process.env.TENANCY_ENGINE_PID) || process.ppid;
delete process.env.TENANCY_ENGINE_PID; // not for the provider's own children
const address = process.argv
  .slice(2)
  .map((arg) => /^(?<host>[\w.-]+|\[[\d:a-f]+\]):(?<port>\d+)$/i.exec(arg))
  .find(Boolean);

function engineGone() {
  process.exit(70);
}

if (engine > 1) {
  if (process.ppid !== engine) engineGone();
  setInterval(() => {
    if (process.ppid !== engine) engineGone();
  }, everyMs).unref();
}

if (address) {
  const host = address.groups.host.replace(/^\[|\]$/g, "");
  const port = Number(address.groups.port);
  let refusals = 0;
  setInterval(
    () => {
      const socket = net.connect({ host, port });
      socket.setTimeout(5000);
      socket.once("connect", () => {
        refusals = 0;
        socket.destroy();
      });
      socket.once("timeout", () => socket.destroy());
      socket.once("error", (error) => {
        if (error.code === "ECONNREFUSED" && ++refusals >= 2) engineGone();
      });
      socket.unref();
    },
    Math.max(everyMs, 2000),
  ).unref();
}
