/**
 * Entry point of the Pulumi project (Pulumi.yaml `main`): one project, two kinds of stack.
 * `platform` / `platform-<region>` run the platform program, `tenant-<slug>` the tenant
 * program. Configuration is read here (./*\/config.ts) and nowhere below. The platform program
 * is loaded only by platform stacks, so a tenant stack never loads what only it needs.
 */
import * as pulumi from "@pulumi/pulumi";
import { isPlatformStack } from "../contract/index.ts";
import { readPlatformConfig } from "./platform/config.ts";
import { readTenantStackConfig } from "./tenant/config.ts";
import { tenantProgram } from "./tenant/program.ts";
import { tenantDatabaseProvisioner } from "./tenant/provisioner.ts";

export default async function main(): Promise<Record<string, unknown>> {
  const stack = pulumi.getStack();
  if (isPlatformStack(stack)) {
    const { platformProgram } = await import("./platform/program.ts");
    return platformProgram(readPlatformConfig(stack));
  }
  const { naming, ...config } = await readTenantStackConfig(stack);
  return tenantProgram({ ...config, provisioner: tenantDatabaseProvisioner(naming) });
}
