/**
 * `@pulumi/kubernetes`, loaded the first time a component declares a Kubernetes object (as
 * ./awsSdk.ts does for AWS): a tenant stack with no compute layer — the local target without
 * a cluster — never loads its ~100 modules. Import this for values, `import type` for types.
 */
import { createRequire } from "node:module";
import type * as Kubernetes from "@pulumi/kubernetes";

const load = createRequire(import.meta.url);
let sdk: typeof Kubernetes | undefined;

export function kubernetesSdk(): typeof Kubernetes {
  sdk ??= load("@pulumi/kubernetes") as typeof Kubernetes;
  return sdk;
}
