/**
 * Fault test: PostgreSQL itself is stopped and started again under a steady signup load. The
 * control plane runs in this process against a server of this test's own (so the test can
 * stop it); it must stay up, answer 503 problem+json while the server is away, and recover by
 * itself when it is back.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "../../control-plane/controlPlane.ts";
import { freePort, startEmbeddedPostgres, type EmbeddedServer } from "../../db/embeddedPostgres.ts";
import { exampleTiers } from "../support/controlPlane.ts";
import { withDatabase } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

let root: string;
let server: EmbeddedServer | undefined;
let plane: ControlPlane | undefined;
const password = randomBytes(12).toString("hex");
let port: number;
const token = randomBytes(24).toString("hex");
let baseUrl: string;

async function startServer(): Promise<EmbeddedServer> {
  return startEmbeddedPostgres({ dataDir: join(root, "data"), port, password, fast: true });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tenancy-restart-pg-"));
  await chmod(root, 0o755); // as root, the server runs as `postgres`
  port = await freePort();
  server = await startServer();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("CREATE DATABASE restart_control");
  await admin.query("CREATE DATABASE restart_shared");
  await admin.end();
  const tiers = await exampleTiers();
  plane = await startControlPlane({
    controlDatabaseUrl: withDatabase(server.url, "restart_control"),
    sharedDatabaseUrl: withDatabase(server.url, "restart_shared"),
    tiers: () => tiers,
    auth: { operatorToken: token },
    rolePrefix: "restart",
    databasePrefix: "restart_db",
    concurrency: 2,
    sweepSeconds: 1,
    fallbackDelaySeconds: 1,
  });
  baseUrl = await plane.app!.listen({ host: "127.0.0.1", port: 0 });
}, 180_000);

afterAll(async () => {
  await plane?.stop().catch(() => undefined);
  await server?.stop({ removeData: true }).catch(() => undefined);
  if (root) await rm(root, { recursive: true, force: true });
}, 120_000);

interface Answer {
  readonly status: number;
  readonly reason?: string;
  readonly retryAfter: string | null;
  readonly phase: "before" | "down" | "after";
}

it("signups keep getting answers across a PostgreSQL restart, and the service recovers", async () => {
  let phase: Answer["phase"] = "before";
  let running = true;
  const answers: Answer[] = [];
  const failures: string[] = [];
  let n = 0;
  const client = async () => {
    while (running) {
      const slug = `load-${n++}`;
      const at = phase;
      try {
        const response = await fetch(`${baseUrl}/v1/tenants`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ slug, name: slug, tier: "free" }),
        });
        const body = (await response.json()) as { reason?: string };
        answers.push({
          status: response.status,
          ...(body.reason ? { reason: body.reason } : {}),
          retryAfter: response.headers.get("retry-after"),
          phase: at,
        });
      } catch (error) {
        failures.push(`${slug}: ${error instanceof Error ? error.message : String(error)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const clients = Array.from({ length: 4 }, client);
  await new Promise((r) => setTimeout(r, 1000));
  phase = "down";
  await server!.stop();
  await new Promise((r) => setTimeout(r, 2000));
  server = await startServer();
  phase = "after";
  await waitFor(async () => (await fetch(`${baseUrl}/healthz`)).status === 200, 30_000);
  const afterCount = () => answers.filter((a) => a.phase === "after" && a.status === 202).length;
  await waitFor(() => afterCount() >= 10, 30_000);
  running = false;
  await Promise.all(clients);

  // Every request got an answer (no socket closed on it), each 202 or a 503 problem.
  expect(failures).toEqual([]);
  const unexpected = answers.filter(
    (a) =>
      a.status !== 202 &&
      !(a.status === 503 && a.reason === "database-unavailable" && a.retryAfter === "5"),
  );
  expect(unexpected).toEqual([]);
  expect(answers.filter((a) => a.phase === "before" && a.status === 202).length).toBeGreaterThan(0);
  expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);

  // Nothing half-done: every tenant that exists ends active, every operation succeeded.
  await waitFor(async () => {
    const { rows } = await plane!.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM control_plane.operations WHERE state <> 'succeeded'`,
    );
    return rows[0]!.n === 0;
  }, 60_000);
  const { rows } = await plane!.pool.query<{ state: string; n: number }>(
    "SELECT state, count(*)::int AS n FROM control_plane.tenants GROUP BY state",
  );
  expect(rows.map((r) => r.state)).toEqual(["active"]);
}, 180_000);
