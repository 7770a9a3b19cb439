/**
 * Tenant stacks on the local target with a Kubernetes cluster, for the tests in test/kube: a
 * runner over the file's bootstrapped database.
 */
import type { LocalCluster } from "../../control-plane/localCluster.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { testEngine } from "./engine.ts";
import { bootstrapTestDatabase, type TestDatabase } from "./postgres.ts";

/** Bootstraps the test database and returns a runner deploying into it and `cluster`. */
export async function kubeStackRunner(
  database: TestDatabase,
  cluster: LocalCluster,
): Promise<TenantStackRunner> {
  const { url, rolePrefix, name } = database;
  await bootstrapTestDatabase(database);
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
