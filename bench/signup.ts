/**
 * Pooled signup through the HTTP API: latency p50/p95 of sequential signups, and throughput
 * with 50 concurrent clients. Real HTTP, real PostgreSQL (embedded unless DATABASE_URL).
 *
 * With the engine available, also bridge signups: time in the queue vs time in the engine.
 *
 *   node --import tsx bench/signup.ts [sequential=200] [concurrent=1000] [bridges=4]
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { loadCatalog } from "../catalog/index.ts";
import { startControlPlane } from "../control-plane/controlPlane.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineSettings, pulumiRoot } from "../control-plane/runner/engine.ts";
import { localStackConfig } from "../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../control-plane/runner/tenantStacks.ts";
import { benchServer, percentile, withDatabase } from "./support.ts";

const sequential = Number(process.argv[2] ?? 200);
const concurrentTotal = Number(process.argv[3] ?? 1000);
const bridges = Number(process.argv[4] ?? 4);
const clients = 50;

const server = await benchServer();
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
const suffix = randomBytes(3).toString("hex");
const control = `bench_control_${suffix}`;
const shared = `bench_shared_${suffix}`;
await admin.query(`CREATE DATABASE ${control}`);
await admin.query(`CREATE DATABASE ${shared}`);
const loaded = await loadCatalog("tenants");
if (!loaded.ok) throw new Error("example catalog invalid");
const token = randomBytes(16).toString("hex");
const engineRoot = pulumiRoot();
const stateDir = await mkdtemp(join(tmpdir(), "tenancy-bench-signup-"));
const runner = engineRoot
  ? new TenantStackRunner({
      engine: await engineSettings({
        stateDir,
        env: {
          ...process.env,
          PULUMI_BACKEND_URL: `file://${join(stateDir, "backend")}`,
          PULUMI_CONFIG_PASSPHRASE: "bench",
        },
      }),
      configFor: localStackConfig({
        adminUrl: withDatabase(server.url, shared),
        rolePrefix: `bench_${suffix}`,
        databasePrefix: `bench_${suffix}_db`,
      }),
    })
  : undefined;
const plane = await startControlPlane({
  ...(runner ? { runner } : {}),
  databasePrefix: `bench_${suffix}_db`,
  controlDatabaseUrl: withDatabase(server.url, control),
  sharedDatabaseUrl: withDatabase(server.url, shared),
  tiers: () => loaded.catalog.tiers,
  auth: { operatorToken: token },
  rolePrefix: `bench_${suffix}`,
  concurrency: 2,
});
const base = await plane.app!.listen({ host: "127.0.0.1", port: 0 });

async function signup(slug: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/v1/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ slug, name: slug, tier: "free" }),
  });
  const body = (await response.json()) as { tenant?: { state: string } };
  if (response.status !== 202 || body.tenant?.state !== "active") {
    throw new Error(`signup ${slug}: ${response.status} ${JSON.stringify(body)}`);
  }
  return performance.now() - started;
}

// Warm-up: connections, JIT.
for (let i = 0; i < 20; i++) await signup(`warm-${i}`);

const latencies: number[] = [];
for (let i = 0; i < sequential; i++) latencies.push(await signup(`seq-${i}`));
latencies.sort((a, b) => a - b);

let next = 0;
const concurrentLatencies: number[] = [];
const started = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (next < concurrentTotal) {
      const i = next++;
      concurrentLatencies.push(await signup(`par-${i}`));
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
concurrentLatencies.sort((a, b) => a - b);

console.log(
  `pooled signup, sequential (${sequential}): p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms`,
);
console.log(
  `pooled signup, ${clients} concurrent clients (${concurrentTotal}): ${(concurrentTotal / seconds).toFixed(0)} signups/s, ` +
    `p50 ${percentile(concurrentLatencies, 50).toFixed(1)} ms, p95 ${percentile(concurrentLatencies, 95).toFixed(1)} ms`,
);

if (runner && bridges > 0) {
  // Bridge signups: accepted at once, deployed by the workers (concurrency 2) via the engine.
  const ids: string[] = [];
  for (let i = 0; i < bridges; i++) {
    const response = await fetch(`${base}/v1/tenants`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ slug: `bridge-${i}`, name: `Bridge ${i}`, tier: "pro" }),
    });
    ids.push(((await response.json()) as { operation: { id: string } }).operation.id);
  }
  for (;;) {
    const { rows } = await plane.pool.query<{ open: number }>(
      "SELECT count(*)::int AS open FROM control_plane.operations WHERE id = ANY($1) AND state NOT IN ('succeeded', 'failed')",
      [ids],
    );
    if (rows[0]!.open === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const { rows } = await plane.pool.query<{ state: string; wait: number; run: number }>(
    `SELECT state, extract(epoch FROM started_at - created_at)::float AS wait,
            extract(epoch FROM finished_at - started_at)::float AS run
     FROM control_plane.operations WHERE id = ANY($1) ORDER BY created_at`,
    [ids],
  );
  const waits = rows.map((r) => r.wait).sort((a, b) => a - b);
  const runs = rows.map((r) => r.run).sort((a, b) => a - b);
  console.log(
    `bridge signup (${bridges}, 2 workers): ${rows.filter((r) => r.state === "succeeded").length} succeeded; ` +
      `queue wait p50 ${percentile(waits, 50).toFixed(1)} s, max ${percentile(waits, 100).toFixed(1)} s; ` +
      `engine time p50 ${percentile(runs, 50).toFixed(1)} s, max ${percentile(runs, 100).toFixed(1)} s`,
  );
  for (let i = 0; i < bridges; i++) await runner.destroy(`bridge-${i}`);
} else if (!runner) {
  console.log("bridge signup: skipped (no Pulumi engine; run scripts/pulumi/ensure-pulumi.sh)");
}

await plane.stop();
await rm(stateDir, { recursive: true, force: true });
await admin.query(`DROP DATABASE ${control} WITH (FORCE)`);
await admin.query(`DROP DATABASE ${shared} WITH (FORCE)`);
const roles = await admin.query<{ rolname: string }>(
  "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
  [`bench\\_${suffix}%`],
);
for (const { rolname } of roles.rows) await admin.query(`DROP ROLE "${rolname}"`);
await admin.end();
await server.stop();
