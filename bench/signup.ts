/**
 * Pooled signup through the HTTP API: latency p50/p95 of sequential signups, and throughput
 * with 50 concurrent clients. Real HTTP, real PostgreSQL (embedded unless DATABASE_URL).
 *
 *   node --import tsx bench/signup.ts [sequential=200] [concurrent=1000]
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { loadCatalog } from "../catalog/index.ts";
import { startControlPlane } from "../control-plane/controlPlane.ts";
import { benchServer, percentile, withDatabase } from "./support.ts";

const sequential = Number(process.argv[2] ?? 200);
const concurrentTotal = Number(process.argv[3] ?? 1000);
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
const plane = await startControlPlane({
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

await plane.stop();
await admin.query(`DROP DATABASE ${control} WITH (FORCE)`);
await admin.query(`DROP DATABASE ${shared} WITH (FORCE)`);
const roles = await admin.query<{ rolname: string }>(
  "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
  [`bench\\_${suffix}%`],
);
for (const { rolname } of roles.rows) await admin.query(`DROP ROLE "${rolname}"`);
await admin.end();
await server.stop();
