#!/usr/bin/env node
// Runs before `npm test` and `npm start`: makes the Pulumi engine available. Uses `pulumi`
// from PATH or an earlier build; otherwise, when `go` is installed, builds it once per machine
// from its Go modules (scripts/pulumi/ensure-pulumi.sh, ~13 min the first time). Set
// TENANCY_SKIP_ENGINE=1 to skip; engine tests then say loudly that they were skipped.
import { spawnSync } from "node:child_process";

if (process.env.TENANCY_SKIP_ENGINE === "1") process.exit(0);
const hasGo = spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
if (!hasGo) {
  const found = spawnSync("sh", ["-c", "command -v pulumi"], { stdio: "ignore" }).status === 0;
  if (!found)
    console.error(
      "tenancy: no Pulumi engine and no Go toolchain to build it; engine tests will be skipped",
    );
  process.exit(0);
}
const result = spawnSync("bash", ["scripts/pulumi/ensure-pulumi.sh"], {
  stdio: ["ignore", "ignore", "inherit"],
});
if (result.status !== 0) {
  console.error(
    "tenancy: building the Pulumi engine failed (see above); engine tests will be skipped or fail in CI",
  );
}
