/**
 * A worker process for the crash test: job workers only, against the databases given in the
 * environment. The test kills it with SIGKILL mid-deployment and starts another.
 */
import { startControlPlane } from "../../../control-plane/controlPlane.ts";
import { engineSettings } from "../../../control-plane/runner/engine.ts";
import { localStackConfig } from "../../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../../../control-plane/runner/tenantStacks.ts";
import { exampleTiersFrom } from "./tiers.ts";

const env = process.env as Record<string, string>;
const tiers = await exampleTiersFrom("tenants");
const engine = await engineSettings({ stateDir: env.WORKER_STATE_DIR });
const runner = new TenantStackRunner({
  engine,
  configFor: localStackConfig({
    adminUrl: env.WORKER_SHARED_URL!,
    rolePrefix: env.WORKER_ROLE_PREFIX!,
    databasePrefix: env.WORKER_DATABASE_PREFIX!,
  }),
});
await startControlPlane({
  controlDatabaseUrl: env.WORKER_CONTROL_URL!,
  sharedDatabaseUrl: env.WORKER_SHARED_URL!,
  tiers: () => tiers,
  auth: { operatorToken: "unused-no-http" },
  rolePrefix: env.WORKER_ROLE_PREFIX!,
  databasePrefix: env.WORKER_DATABASE_PREFIX!,
  runner,
  concurrency: 1,
  http: false,
  retryDelaySeconds: 1,
  ...(env.WORKER_MOVE_BATCH ? { moveBatchSize: Number(env.WORKER_MOVE_BATCH) } : {}),
});
process.stdout.write("worker ready\n");
