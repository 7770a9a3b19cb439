/**
 * Moves whose mover runs in another process (`tenancy db move`, a child process), against a
 * real PostgreSQL:
 *
 * - `tenancy db move --abort` from a third process stops a running mover: the abort is asked
 *   for on the move's record, the mover sees it at its next step and rolls back (tenant on its
 *   source, target database and role removed, every row intact), and the abort command waits
 *   for that before it answers;
 * - a mover SIGKILLed between retiring its dedicated source (committed in that database) and
 *   the routing switch (in flight in the control database): never half-switched — the tenant
 *   stays on its source with writes refused (TN002) until a re-run finishes the move, every
 *   table verified, or an abort puts it back, writable; no acknowledged write is lost.
 *
 * The mover is held at a known point by a lock the test takes (no hook in the mover): the
 * source table (its capture triggers wait) or the tenant's registry row (its switch waits).
 */
import { spawn } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantDatabaseDriver } from "../../db/drivers/index.ts";
import type { DriverOptions } from "../../db/drivers/types.ts";
import { moveTenant } from "../../db/moves/moveTenant.ts";
import { connectionSettingsFor } from "../../db/routing.ts";
import { createTenantRouter } from "../../db/tenantRouter.ts";
import { withDatabaseName } from "../../db/transaction.ts";
import { queryRows, useTestDatabase } from "../support/postgres.ts";
import { placementPools, registeredRouting } from "../support/tenantRouting.ts";
import { bootstrapped, shippedMigrationsDriver, type Bootstrapped } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
let driver: TenantDatabaseDriver;
let options: DriverOptions;
const quotas = { dbConnections: 10, statementTimeoutMs: 10_000 };
const passwords = new Map<string, string>(); // role → password
const pools = placementPools((routing) => ({
  ...connectionSettingsFor(routing, { password: passwords.get(routing.role) ?? "" }),
  max: 4,
}));
const children: { pid?: number | undefined }[] = [];

// The shipped migrations only: the mover in a child process (`tenancy db move`) provisions
// its target from the migration directory.
beforeAll(async () => {
  env = await bootstrapped(db.current, 8);
  ({ options, driver } = await shippedMigrationsDriver(db.current));
  passwords.set(env.roles.app, env.appPassword);
});
afterAll(async () => {
  for (const child of children) killGroup(child);
  await pools.close();
  await env?.close();
});

const routingOf = (slug: string) => registeredRouting(db.current.url, slug);
const router = createTenantRouter({
  resolve: routingOf,
  poolFor: pools.poolFor,
  fenceRetryDelayMs: 100,
});

/** A superuser query on `database` (the file's database when omitted). */
function superQuery<T extends pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
  database?: string,
): Promise<T[]> {
  const url = database ? withDatabaseName(db.current.url, database) : db.current.url;
  return queryRows<T>(url, sql, params);
}

async function count(sql: string, params: unknown[], database?: string): Promise<number> {
  return (await superQuery<{ n: number }>(sql, params, database))[0]?.n ?? -1;
}

interface Cli {
  readonly pid: number | undefined;
  output(): string;
  readonly done: Promise<{ code: number | null; signal: string | null; out: string; err: string }>;
}

/** `tenancy db move ...` in a child process of its own (its own process group). */
function dbMove(...args: string[]): Cli {
  const child = spawn(
    process.execPath,
    [
      "bin/tenancy.js",
      "db",
      "move",
      "--database-url",
      db.current.url,
      "--role-prefix",
      db.current.rolePrefix,
      "--database-prefix",
      db.current.name,
      ...args,
    ],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString()));
  const done = new Promise<{
    code: number | null;
    signal: string | null;
    out: string;
    err: string;
  }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, out, err })));
  return { pid: child.pid, output: () => out + err, done };
}

function killGroup(child: { pid?: number | undefined }): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The mover's sessions (application_name tenancy-move:<slug>), on any database. */
function moverSessions(slug: string, extra = "") {
  return superQuery<{ pid: number; query: string }>(
    `SELECT pid, query FROM pg_stat_activity WHERE application_name = $1 ${extra}`,
    [`tenancy-move:${slug}`],
  );
}

/** A transaction of its own holding a lock the mover will need; `release` rolls it back. */
async function holdLock(sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: db.current.url });
  await client.connect();
  await client.query("BEGIN");
  await client.query(sql, params);
  return {
    async release() {
      await client.query("ROLLBACK");
      await client.end();
    },
  };
}

/** Inserts projects through the router until stopped; keeps the acknowledged names only. */
function writer(slug: string) {
  const acknowledged: string[] = [];
  const refused = new Map<string, number>();
  const unexpected: unknown[] = [];
  let stop = false;
  const done = (async () => {
    for (let i = 0; !stop; i += 1) {
      const name = `w-${i}`;
      try {
        await router.withTenant(slug, (c) =>
          c.query("INSERT INTO projects (name) VALUES ($1)", [name]),
        );
        acknowledged.push(name);
      } catch (error) {
        const code = (error as { code?: string }).code ?? "";
        if (code === "TN001" || code === "TN002") refused.set(code, (refused.get(code) ?? 0) + 1);
        else unexpected.push(error);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  return {
    acknowledged,
    refused,
    unexpected,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** Every acknowledged name exactly once, and the seeded rows, where the routing points now. */
async function expectWritten(slug: string, acknowledged: readonly string[], seeded: number) {
  const routing = await routingOf(slug);
  const rows = await superQuery<{ name: string; n: number }>(
    `SELECT name, count(*)::int AS n FROM "${routing.schema}".projects WHERE tenant_id = $1 GROUP BY name`,
    [routing.tenantId],
    routing.database,
  );
  expect(rows.filter((r) => r.n !== 1)).toEqual([]);
  const names = new Set(rows.map((r) => r.name));
  expect(acknowledged.filter((name) => !names.has(name))).toEqual([]);
  expect(rows.length).toBe(seeded + acknowledged.length);
}

async function seed(slug: string, projects: number): Promise<void> {
  await router.withTenant(slug, (c) =>
    c.query(
      `WITH p AS (INSERT INTO projects (name) SELECT 'seed-' || g FROM generate_series(1, $1::int) g RETURNING id)
       INSERT INTO tasks (project_id, title) SELECT id, 'task' FROM p, generate_series(1, 2)`,
      [projects],
    ),
  );
}

describe("moves with the mover in another process", () => {
  it("tenancy db move --abort stops a mover running in another process: rolled back, the target removed, every row on the source", async () => {
    const slug = "stopped";
    await driver.create({ slug, mode: "pool", quotas });
    await seed(slug, 2000);
    const before = await routingOf(slug);
    // The mover records the move, then waits for this lock to install its capture triggers.
    const table = await holdLock("LOCK TABLE app.projects IN ROW EXCLUSIVE MODE");
    let mover: Cli | undefined;
    try {
      mover = dbMove("--tenant", slug, "--to", "dedicated", "--grace", "0");
      await until("the move recorded", async () =>
        (await count("SELECT count(*)::int AS n FROM tenancy.tenant_moves WHERE slug = $1", [
          slug,
        ])) === 1
          ? true
          : undefined,
      );
      expect(await moverSessions(slug)).not.toEqual([]);
      const abort = dbMove("--tenant", slug, "--abort");
      await until("the abort waiting for the running mover", async () =>
        abort.output().includes("waiting for its mover") ? true : undefined,
      );
      const asked = await superQuery<{ abort_requested: boolean }>(
        "SELECT abort_requested FROM tenancy.tenant_moves WHERE slug = $1",
        [slug],
      );
      expect(asked).toEqual([{ abort_requested: true }]);
      await table.release();
      const [moved, aborted] = await Promise.all([mover.done, abort.done]);
      expect([aborted.code, aborted.err]).toEqual([0, ""]);
      expect(aborted.out).toContain(`move of ${slug} aborted; it stays on its source`);
      expect(moved.code).toBe(1);
      expect(moved.err).toMatch(/the move of tenant stopped was aborted on request/);
      expect(moved.out).not.toMatch(/^switch:/m);
    } finally {
      await table.release().catch(() => undefined);
      if (mover) killGroup(mover);
    }
    expect(await routingOf(slug)).toEqual(before);
    expect(
      await count("SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [
        `${db.current.name}_${slug}`,
      ]),
    ).toBe(0);
    expect(
      await count("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1", [
        `${db.current.rolePrefix}_t_${slug}`,
      ]),
    ).toBe(0);
    expect(
      await count("SELECT count(*)::int AS n FROM app.projects WHERE tenant_id = $1", [
        before.tenantId,
      ]),
    ).toBe(2000);
    expect(
      await count("SELECT count(*)::int AS n FROM app.tasks WHERE tenant_id = $1", [
        before.tenantId,
      ]),
    ).toBe(4000);
    expect(await count("SELECT count(*)::int AS n FROM tenancy.tenant_moves", [])).toBe(0);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'tenancy_move_%'",
        [],
      ),
    ).toBe(0);
    await router.withTenant(slug, (c) =>
      c.query("INSERT INTO projects (name) VALUES ('after-abort')"),
    );

    // Nothing left to abort; and no abort after a switch.
    const nothing = await dbMove("--tenant", slug, "--abort").done;
    expect([nothing.code, nothing.out.trim()]).toEqual([0, `no move of ${slug} to abort`]);
    await moveTenant({ ...options, slug, to: "schema", graceMs: 60_000 });
    const late = await dbMove("--tenant", slug, "--abort").done;
    expect(late.code).toBe(1);
    expect(late.err).toMatch(/has switched already; move it back instead/);
  }, 180_000);

  it.each([
    ["a re-run finishes it", "halfway"],
    ["an abort puts the tenant back on it", "undone"],
  ])(
    "a mover SIGKILLed between retiring its dedicated source and the switch leaves the tenant on its source, writes refused; %s; no acknowledged write lost",
    async (_, slug) => {
      const password = `pw-${slug}-0123456789abcdef`;
      passwords.set(`${db.current.rolePrefix}_t_${slug}`, password);
      await driver.create({ slug, mode: "dedicated", quotas, password });
      await seed(slug, 1500);
      const before = await routingOf(slug);
      const database = `${db.current.name}_${slug}`;
      const writes = writer(slug);
      // The switch (the control database's transaction) will wait for the registry row.
      const registry = await holdLock(
        "SELECT 1 FROM tenancy.tenants WHERE slug = $1 FOR NO KEY UPDATE",
        [slug],
      );
      try {
        const mover = dbMove("--tenant", slug, "--to", "pool", "--grace", "0");
        await until("the mover's switch waiting for the registry row", async () => {
          const waiting = await moverSessions(
            slug,
            "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%tenants%'",
          );
          return waiting.length > 0 ? true : undefined;
        });
        // The source was retired in its own database first (committed), routing version 2.
        const retired = await superQuery<{ v: string }>(
          "SELECT routing_version::text AS v FROM tenancy.retired_placements WHERE tenant_id = $1",
          [before.tenantId],
          database,
        );
        expect(retired).toEqual([{ v: "2" }]);
        killGroup(mover);
        expect((await mover.done).signal).toBe("SIGKILL");
        await until("the mover's sessions gone", async () =>
          (await moverSessions(slug)).length === 0 ? true : undefined,
        );
      } finally {
        await registry.release();
      }
      // Not switched: the registry still routes to the source, which refuses writes.
      expect(await routingOf(slug)).toEqual(before);
      const refused = await router
        .withTenant(slug, (c) => c.query("INSERT INTO projects (name) VALUES ('while-retired')"))
        .then(
          () => "written",
          (e: { code?: string }) => e.code,
        );
      expect(refused).toBe("TN002");
      await new Promise((r) => setTimeout(r, 300));

      if (slug === "halfway") {
        const resumed = await moveTenant({ ...options, slug, to: "pool", graceMs: 0 });
        await new Promise((r) => setTimeout(r, 300));
        await writes.stop();
        expect(resumed.routing).toMatchObject({ mode: "pool", version: 2 });
        for (const t of resumed.tables) expect(t.target, t.table).toEqual(t.source);
        expect(resumed.purge?.verified).toBe(true);
        expect(
          await count("SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [database]),
        ).toBe(0);
        expect(
          await count("SELECT count(*)::int AS n FROM app.tasks WHERE tenant_id = $1", [
            before.tenantId,
          ]),
        ).toBe(3000);
      } else {
        const aborted = await dbMove("--tenant", slug, "--abort").done;
        expect([aborted.code, aborted.err]).toEqual([0, ""]);
        expect(aborted.out).toContain(`move of ${slug} aborted; it stays on its source`);
        // Writable on its source again.
        await router.withTenant(slug, (c) =>
          c.query("INSERT INTO projects (name) VALUES ('after-abort')"),
        );
        writes.acknowledged.push("after-abort");
        await new Promise((r) => setTimeout(r, 300));
        await writes.stop();
        expect(await routingOf(slug)).toEqual(before);
        expect(
          await count(
            "SELECT count(*)::int AS n FROM tenancy.retired_placements WHERE tenant_id = $1",
            [before.tenantId],
            database,
          ),
        ).toBe(0);
        expect(
          await count(
            "SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'tenancy_move_%'",
            [],
            database,
          ),
        ).toBe(0);
        expect(
          await count("SELECT count(*)::int AS n FROM app.projects WHERE tenant_id = $1", [
            before.tenantId,
          ]),
        ).toBe(0);
      }
      expect(writes.unexpected).toEqual([]);
      expect(writes.refused.get("TN002") ?? 0).toBeGreaterThan(0);
      expect(writes.acknowledged.length).toBeGreaterThan(5);
      await expectWritten(slug, writes.acknowledged, 1500);
    },
    180_000,
  );
});
