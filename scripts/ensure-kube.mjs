#!/usr/bin/env node
// Runs before `npm test`: makes the local Kubernetes cluster's binaries available (etcd from
// Debian, kube-apiserver / kube-controller-manager / the Pulumi Kubernetes provider built once
// per machine from their Go modules by scripts/kube/ensure-kube.sh, ~25 min the first time).
// Set TENANCY_SKIP_KUBE=1 to skip; Kubernetes tests then say loudly that they were skipped.
import { spawnSync } from "node:child_process";

if (process.env.TENANCY_SKIP_KUBE === "1") process.exit(0);
const hasGo = spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
if (!hasGo) {
  console.error(
    "tenancy: no Go toolchain to build the local Kubernetes cluster; Kubernetes tests will be skipped",
  );
  process.exit(0);
}
const result = spawnSync("bash", ["scripts/kube/ensure-kube.sh"], {
  stdio: ["ignore", "ignore", "inherit"],
});
if (result.status !== 0) {
  console.error(
    "tenancy: building the local Kubernetes cluster failed (see above); Kubernetes tests will be skipped or fail in CI",
  );
}
