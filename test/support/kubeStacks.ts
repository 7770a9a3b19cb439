/**
 * Tenant stacks on the local target with a Kubernetes cluster, for the tests in test/kube: a
 * runner over the file's bootstrapped database, and the tenants those tests deploy.
 */
import pg from "pg";
import { resolveTenant, tenantFileSchema, type ResolvedTenant } from "../../catalog/index.ts";
import type { LocalCluster } from "../../control-plane/localCluster.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { bootstrapDatabase } from "../../db/bootstrap.ts";
import { exampleTiers } from "./controlPlane.ts";
import { testEngine } from "./engine.ts";
import type { TestDatabase } from "./postgres.ts";

/** Bootstraps the test database and returns a runner deploying into it and `cluster`. */
export async function kubeStackRunner(
  database: TestDatabase,
  cluster: LocalCluster,
): Promise<TenantStackRunner> {
  const { url, rolePrefix, name } = database;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await bootstrapDatabase(client, { rolePrefix });
  } finally {
    await client.end();
  }
  return new TenantStackRunner({
    engine: await testEngine(),
    configFor: localStackConfig({
      adminUrl: url,
      rolePrefix,
      databasePrefix: `${name}_db`,
      kubeconfig: cluster.kubeconfig,
    }),
    lockBackoffMs: 200,
  });
}

/** A tenant of the example catalog's tiers, from a tenant file's fields. */
export async function exampleTenant(file: object): Promise<ResolvedTenant> {
  return resolveTenant(tenantFileSchema.parse(file), await exampleTiers());
}
