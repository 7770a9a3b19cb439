/**
 * Fault tests: the control database's connections are terminated (every backend at once)
 * during a burst of signups and during a running operation. The server must stay up, answer
 * 503 problem+json while it cannot reach the database, and finish every accepted operation.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { adminUrl, useTestDatabase } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

const db = useTestDatabase();
let plane: TestControlPlane;

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name, {
    sweepSeconds: 1,
    fallbackDelaySeconds: 1,
  });
});
afterAll(async () => {
  await plane?.stop();
});

/** Terminates every backend of the control database (as an admin on another database). */
async function terminateControlBackends(): Promise<number> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [db.current.name],
    );
    return rows[0]!.n;
  } finally {
    await admin.end();
  }
}

/** Queries the control database, retrying while the pool replaces killed connections. */
async function control<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await plane.pool.query<T>(sql, values)).rows;
    } catch (error) {
      if (attempt > 20) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function answer(response: Response) {
  const body = (await response.json()) as { reason?: string };
  return {
    status: response.status,
    reason: body.reason,
    type: response.headers.get("content-type"),
  };
}

describe("lost control-database connections", () => {
  it("a burst of signups while every backend is terminated: 202 or 503, all accepted tenants end active", async () => {
    const slugs = Array.from({ length: 100 }, (_, i) => `burst-${i}`);
    const requests = slugs.map(async (slug, i) => {
      await new Promise((r) => setTimeout(r, i * 3));
      return answer(
        await plane.request("/v1/tenants", {
          method: "POST",
          json: { slug, name: slug, tier: "free" },
        }),
      );
    });
    let killed = 0;
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 60));
      killed += await terminateControlBackends();
    }
    const answers = await Promise.all(requests);
    expect(killed).toBeGreaterThan(0);
    for (const a of answers) {
      if (a.status === 202) continue;
      expect(a).toEqual({
        status: 503,
        reason: "database-unavailable",
        type: expect.stringMatching(/^application\/problem\+json/) as unknown,
      });
    }
    // The server recovered by itself: healthy, accepting signups again.
    await waitFor(async () => (await fetch(`${plane.baseUrl}/healthz`)).status === 200);
    const after = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "after-burst", name: "After", tier: "free" },
    });
    expect(after.status).toBe(202);
    // Every tenant that exists (each 202, and any 503 whose transaction had committed) ends
    // active through its own run or its safety-net job; nothing is left half-done.
    const accepted = slugs.filter((_, i) => answers[i]!.status === 202);
    await waitFor(async () => {
      const rows = await control<{ slug: string; state: string }>(
        "SELECT slug, state FROM control_plane.tenants WHERE slug LIKE 'burst-%'",
      );
      return rows.every((r) => r.state === "active");
    }, 60_000);
    const rows = await control<{ slug: string }>(
      "SELECT slug FROM control_plane.tenants WHERE slug LIKE 'burst-%' AND state = 'active'",
    );
    expect(rows.map((r) => r.slug)).toEqual(expect.arrayContaining(accepted));
    const open = await control<{ n: number }>(
      `SELECT count(*)::int AS n FROM control_plane.operations
        WHERE tenant_slug LIKE 'burst-%' AND state <> 'succeeded'`,
    );
    expect(open[0]!.n).toBe(0);
  }, 120_000);

  it("a running operation whose lock connection dies stops, stays fenced, and is resumed by the sweep", async () => {
    // Stall the pooled registration inside the run: the registry is locked in the shared DB.
    const shared = new pg.Client({ connectionString: plane.sharedUrl });
    await shared.connect();
    await shared.query("BEGIN");
    await shared.query("LOCK TABLE tenancy.tenants IN EXCLUSIVE MODE");
    const signup = plane
      .request("/v1/tenants", {
        method: "POST",
        json: { slug: "stalled", name: "S", tier: "free" },
      })
      .then(answer);
    await waitFor(
      async () =>
        (
          await control<{ state: string }>(
            "SELECT state FROM control_plane.operations WHERE tenant_slug = 'stalled'",
          )
        )[0]?.state === "running",
    );
    expect(await terminateControlBackends()).toBeGreaterThan(0);

    // The worker re-takes the tenant's lock (a fence) while its registration is in flight, so
    // nobody resumes the operation yet, although the sweep runs every second.
    const probe = new pg.Client({ connectionString: plane.pool.options.connectionString });
    await probe.connect();
    await waitFor(async () => {
      const { rows } = await probe.query<{ free: boolean }>(
        "SELECT pg_try_advisory_lock(hashtext('tenancy:tenant:stalled')) AS free",
      );
      if (rows[0]!.free)
        await probe.query("SELECT pg_advisory_unlock(hashtext('tenancy:tenant:stalled'))");
      return !rows[0]!.free;
    });
    await new Promise((r) => setTimeout(r, 2500));
    const during = await control<{ attempts: number; state: string }>(
      "SELECT attempts, state FROM control_plane.operations WHERE tenant_slug = 'stalled'",
    );
    expect(during).toEqual([{ attempts: 1, state: "running" }]);
    await probe.end();

    await shared.query("COMMIT");
    await shared.end();
    const first = await signup;
    expect([202, 503]).toContain(first.status);
    // Resumed by the sweep, on a new lock: succeeded on the second attempt, registered once.
    await waitFor(
      async () =>
        (
          await control<{ state: string }>(
            "SELECT state FROM control_plane.operations WHERE tenant_slug = 'stalled'",
          )
        )[0]?.state === "succeeded",
      30_000,
    );
    const [operation] = await control<{ id: string; attempts: number }>(
      "SELECT id, attempts FROM control_plane.operations WHERE tenant_slug = 'stalled'",
    );
    expect(operation!.attempts).toBe(2);
    const events = await control<{ type: string; data: { resumed?: boolean } }>(
      "SELECT type, data FROM control_plane.operation_events WHERE operation_id = $1 ORDER BY id",
      [operation!.id],
    );
    expect(events.filter((e) => e.type === "started").map((e) => e.data.resumed)).toEqual([
      false,
      true,
    ]);
    expect(events.filter((e) => e.type === "succeeded")).toHaveLength(1);
    const tenant = await control<{ state: string }>(
      "SELECT state FROM control_plane.tenants WHERE slug = 'stalled'",
    );
    expect(tenant).toEqual([{ state: "active" }]);
    const check = new pg.Client({ connectionString: plane.sharedUrl });
    await check.connect();
    const registered = await check.query("SELECT 1 FROM tenancy.tenants WHERE slug = 'stalled'");
    await check.end();
    expect(registered.rowCount).toBe(1);
  }, 90_000);
});
