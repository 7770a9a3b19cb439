/**
 * The real engine's cost per tenant stack on the local target: a first `up`, a no-op `up` of
 * one stack, and no-op `up`s of N stacks at parallelism 1 vs 4 — how many tenants per minute
 * one worker can deploy.
 *
 *   node --import tsx bench/engine.ts [stacks=6]
 *   node --import tsx bench/engine.ts --kube   # namespace tenant against a local Kubernetes
 *                                              # cluster: API server start, first and no-op up
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { loadCatalog, resolveTenant, tenantFileSchema } from "../catalog/index.ts";
import {
  startLocalCluster,
  stopLocalCluster,
  type LocalCluster,
} from "../control-plane/localCluster.ts";
import { engineSettings } from "../control-plane/runner/engine.ts";
import { previewTenants } from "../control-plane/runner/previewTenants.ts";
import { localStackConfig } from "../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../control-plane/runner/tenantStacks.ts";
import { bootstrapDatabase } from "../db/bootstrap.ts";
import { benchServer, withDatabase } from "./support.ts";

const kube = process.argv.includes("--kube");
const count = kube ? 1 : Number(process.argv[2] ?? 6);
const server = await benchServer();
const suffix = randomBytes(3).toString("hex");
const database = `bench_engine_${suffix}`;
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const url = withDatabase(server.url, database);
const rolePrefix = `bench_${suffix}`;
const client = new pg.Client({ connectionString: url });
await client.connect();
await bootstrapDatabase(client, { rolePrefix });
await client.end();

const loaded = await loadCatalog("tenants");
if (!loaded.ok) throw new Error("example catalog invalid");
const tiers = loaded.catalog.tiers;
const tenants = Array.from({ length: count }, (_, i) =>
  resolveTenant(
    tenantFileSchema.parse({ slug: `bench-${i}`, name: `Bench ${i}`, tier: "pro" }),
    tiers,
  ),
);
const stateDir = await mkdtemp(join(tmpdir(), "tenancy-bench-engine-"));
const engine = await engineSettings({
  stateDir,
  env: {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${join(stateDir, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: "bench",
  },
});
let cluster: LocalCluster | undefined;
if (kube) {
  const started = performance.now();
  cluster = await startLocalCluster({
    stateDir: join(stateDir, "kube"),
    apiPort: 26443,
    etcdPort: 22379,
  });
  console.log(
    `local cluster start (etcd + API server ready + controller-manager): ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
const runner = new TenantStackRunner({
  engine,
  configFor: localStackConfig({
    adminUrl: url,
    rolePrefix,
    databasePrefix: `${database}_db`,
    ...(cluster ? { kubeconfig: cluster.kubeconfig } : {}),
  }),
});

const seconds = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
};
const inParallel = async (parallelism: number) => {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallelism }, async () => {
      while (next < tenants.length) await runner.up(tenants[next++]!);
    }),
  );
};

const firstUp = await seconds(() => runner.up(tenants[0]!));
const noopOne = await seconds(() => runner.up(tenants[0]!));
if (cluster) {
  console.log(
    `first up of one namespace tenant (schema + namespace, quota, limits, policies, RBAC): ${firstUp.toFixed(1)} s`,
  );
  console.log(`no-op up of that stack: ${noopOne.toFixed(1)} s`);
  const destroy = await seconds(() => runner.destroy(tenants[0]!.slug));
  console.log(`destroy (namespace deleted and gone): ${destroy.toFixed(1)} s`);
  await stopLocalCluster(cluster.stateDir, { purge: true });
  await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
  await admin.end();
  await server.stop();
  await rm(stateDir, { recursive: true, force: true });
  process.exit(0);
}
const createAll = await seconds(() => inParallel(4));
const noopSerial = await seconds(() => inParallel(1));
const noopParallel = await seconds(() => inParallel(4));
const preview = await seconds(() => previewTenants(runner, tenants, 4));

console.log(`first up of one schema tenant: ${firstUp.toFixed(1)} s`);
console.log(`no-op up of one tenant stack: ${noopOne.toFixed(1)} s`);
console.log(`first up of ${count} stacks at parallelism 4: ${createAll.toFixed(1)} s`);
console.log(
  `no-op up of ${count} stacks: parallelism 1 ${noopSerial.toFixed(1)} s (${((60 * count) / noopSerial).toFixed(0)} stacks/min), ` +
    `parallelism 4 ${noopParallel.toFixed(1)} s (${((60 * count) / noopParallel).toFixed(0)} stacks/min), speed-up ${(noopSerial / noopParallel).toFixed(2)}x`,
);
console.log(`preview of ${count} stacks at parallelism 4: ${preview.toFixed(1)} s`);

await Promise.all(tenants.map((t) => runner.destroy(t.slug)));
await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
const roles = await admin.query<{ rolname: string }>(
  "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
  [`${rolePrefix}\\_%`],
);
for (const { rolname } of roles.rows) await admin.query(`DROP ROLE "${rolname}"`);
await admin.end();
await server.stop();
await rm(stateDir, { recursive: true, force: true });
