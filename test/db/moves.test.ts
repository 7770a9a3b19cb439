/**
 * Tenant moves pool ↔ schema against a real PostgreSQL: concurrent writers (the moving
 * tenant through the router, a neighbour directly), the write fence, verification of a
 * tampered copy, a mover killed mid-copy, refusals.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { DEFAULT_MIGRATIONS_DIR } from "../../db/migrations/migrationSet.ts";
import { mkdtemp, readdir, copyFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDbCommand } from "../../db/cli.ts";
import { TenantMoveError } from "../../db/moves/moveErrors.ts";
import { abortMove, DEFAULT_COPY_PACE, type MoveProgress } from "../../db/moves/moveTenant.ts";
import { findTenant } from "../../db/registry.ts";
import { withTenant } from "../../db/tenantContext.ts";
import { createTenantRouter } from "../../db/tenantRouter.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { withAdmin } from "./fixtures.ts";
import { useMoveTestDatabase } from "./moveFixture.ts";

const db = useTestDatabase();
const moves = useMoveTestDatabase(db);
const { driverOptions, move, poolFor, router, routingOf } = moves;
const quotas = { dbConnections: 10, statementTimeoutMs: 10_000 };

async function seed(slug: string, projects: number, events: number): Promise<void> {
  await router.withTenant(slug, async (c) => {
    await c.query(
      `WITH p AS (INSERT INTO projects (name) SELECT 'seed-' || g FROM generate_series(1, $1::int) g RETURNING id)
       INSERT INTO tasks (project_id, title) SELECT id, 'task' FROM p, generate_series(1, 2)`,
      [projects],
    );
    await c.query("INSERT INTO events (body) SELECT 'e-' || g FROM generate_series(1, $1::int) g", [
      events,
    ]);
  });
}

async function superCount(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.current.pool.query<Record<string, string>>(sql, params);
  const first = rows[0];
  return first ? Number(Object.values(first)[0] ?? -1) : -1;
}

/** A writer of the moving tenant, through the router; records only acknowledged writes. */
type Model = { projects: Set<string>; events: Map<string, string> };
function tenantWriter(slug: string, model: Model, round: number) {
  const unexpected: unknown[] = [];
  let retryable = 0;
  let stop = false;
  const done = (async () => {
    for (let i = 0; !stop; i += 1) {
      try {
        const outcome = await router.withTenant(slug, async (c) => {
          const name = `w-${round}-${i}`;
          await c.query("INSERT INTO projects (name) VALUES ($1)", [name]);
          const e = await c.query<{ id: string }>(
            "INSERT INTO events (body) VALUES ($1) RETURNING id::text",
            [`ins-${i}`],
          );
          const victim = [...model.projects][i % 7];
          if (i % 5 === 0 && victim) {
            await c.query("DELETE FROM projects WHERE name = $1", [victim]);
          }
          const updated = [...model.events.keys()][i % 11];
          if (updated)
            await c.query("UPDATE events SET body = $2 WHERE id = $1::bigint", [
              updated,
              `upd-${i}`,
            ]);
          return {
            name,
            event: e.rows[0]?.id ?? "",
            victim: i % 5 === 0 ? victim : undefined,
            updated,
          };
        });
        model.projects.add(outcome.name);
        model.events.set(outcome.event, `ins-${i}`);
        if (outcome.victim) model.projects.delete(outcome.victim);
        if (outcome.updated) model.events.set(outcome.updated, `upd-${i}`);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "TN001" || code === "TN002") retryable += 1;
        else unexpected.push(error);
      }
    }
  })();
  return {
    model,
    unexpected,
    get retryable() {
      return retryable;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** A neighbour writing directly as the application role; records each write's latency. */
function neighbourWriter(tenantId: string) {
  const latencies: number[] = [];
  const errors: unknown[] = [];
  let stop = false;
  const done = (async () => {
    for (let i = 0; !stop; i += 1) {
      const started = performance.now();
      try {
        await withTenant(moves.env.appPool, tenantId, (c) =>
          c.query("INSERT INTO events (body) VALUES ($1)", [`n-${i}`]),
        );
        latencies.push(performance.now() - started);
      } catch (error) {
        errors.push(error);
      }
    }
  })();
  return {
    latencies,
    errors,
    async stop() {
      stop = true;
      await done;
    },
  };
}

async function expectModelAt(slug: string, model: Model, seededEvents: number) {
  const routing = await routingOf(slug);
  const s = `"${routing.schema}"`;
  const names = await db.current.pool.query<{ name: string; n: string }>(
    `SELECT name, count(*)::text AS n FROM ${s}.projects WHERE tenant_id = $1 AND name LIKE 'w-%' GROUP BY name`,
    [routing.tenantId],
  );
  expect(names.rows.filter((r) => r.n !== "1")).toEqual([]); // none duplicated
  expect(new Set(names.rows.map((r) => r.name))).toEqual(model.projects); // none lost
  const events = await db.current.pool.query<{ id: string; body: string }>(
    `SELECT id::text, body FROM ${s}.events WHERE tenant_id = $1 AND body NOT LIKE 'e-%'`,
    [routing.tenantId],
  );
  const written = new Map(events.rows.map((r) => [r.id, r.body]));
  for (const [id, body] of model.events) expect(written.get(id), `event ${id}`).toBe(body);
  const total = await superCount(`SELECT count(*) FROM ${s}.events WHERE tenant_id = $1`, [
    routing.tenantId,
  ]);
  expect(total).toBeGreaterThanOrEqual(seededEvents);
}

describe("moving a tenant pool ↔ schema", () => {
  it("moves under concurrent writes: none lost or duplicated, neighbour never blocked, fence and old routing answer with the documented errors", async () => {
    await moves.driver.create({ slug: "mover", mode: "pool", quotas });
    const neighbour = await moves.driver.create({ slug: "neighbour", mode: "pool", quotas });
    await seed("mover", 600, 1500);
    await seed("neighbour", 50, 50);

    const model: Model = { projects: new Set(), events: new Map() };
    for (const [round, to] of (["schema", "pool"] as const).entries()) {
      const writer = tenantWriter("mover", model, round);
      const other = neighbourWriter(neighbour.routing.tenantId);
      const steps: MoveProgress[] = [];
      const fenceChecks: Record<string, unknown> = {};
      let copyStarted: Date | undefined;
      const analyzedAtCatchUp: string[] = [];
      await new Promise((r) => setTimeout(r, 200));
      const before = await routingOf("mover");
      const result = await move("mover", to, {
        onProgress: async (p) => {
          steps.push(p);
          if (process.env.DEBUG_MOVES && p.step !== "copy") console.log(p.step, p.message);
          if (p.step === "capture") {
            copyStarted = (await db.current.pool.query<{ now: Date }>("SELECT now()")).rows[0]?.now;
          }
          if (p.step === "catch-up" && analyzedAtCatchUp.length === 0) {
            const stats = await db.current.pool.query<{ schema: string; table: string }>(
              `SELECT schemaname AS schema, relname AS table FROM pg_stat_user_tables
                WHERE relname IN ('events', 'projects', 'tasks') AND last_analyze > $1`,
              [copyStarted],
            );
            analyzedAtCatchUp.push(...stats.rows.map((r) => `${r.schema}.${r.table}`));
          }
          if (p.step !== "fence") return;
          const started = performance.now();
          const fenced = await withTenant(poolFor(before), before.tenantId, (c) =>
            c.query("INSERT INTO events (body) VALUES ('during-fence')"),
          ).catch((e: { code?: string; message?: string }) => e);
          fenceChecks.code = (fenced as { code?: string }).code;
          fenceChecks.message = (fenced as { message?: string }).message;
          fenceChecks.ms = performance.now() - started;
          fenceChecks.read = await withTenant(poolFor(before), before.tenantId, async (c) =>
            Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM projects")).rows[0]?.n),
          );
          await withTenant(moves.env.appPool, neighbour.routing.tenantId, (c) =>
            c.query("INSERT INTO events (body) VALUES ('neighbour-during-fence')"),
          );
        },
      }).finally(async () => {
        await new Promise((r) => setTimeout(r, 200));
        await writer.stop();
        await other.stop();
      });

      console.log(
        `move ${to}: fenced ${result.fencedMs} ms, ${writer.retryable} retryable errors reached the writer, neighbour max latency ${Math.max(...other.latencies).toFixed(1)} ms over ${other.latencies.length} writes`,
      );
      expect(writer.unexpected).toEqual([]);
      expect(other.errors).toEqual([]);
      expect(writer.model.projects.size).toBeGreaterThan(5);
      expect(fenceChecks.code).toBe("TN001");
      expect(fenceChecks.message).toMatch(
        /^tenant fenced: tenant .* is switching to a new placement/,
      );
      // Fails fast: this runs while the mover holds the fence (it waits for this callback),
      // so a write that waited for the fence would never return; the bound is machine noise.
      expect(fenceChecks.ms).toBeLessThan(5000);
      expect(fenceChecks.read).toBeGreaterThan(500);
      // The neighbour wrote while the mover was fenced (above); its worst latency is bounded by
      // the trigger DDL's 500 ms lock_timeout plus scheduling noise on a shared machine.
      expect(Math.max(...other.latencies)).toBeLessThan(5000);

      const order = [...new Set(steps.map((s) => s.step))];
      expect(order).toEqual([
        "prepare",
        "provision",
        "capture",
        "copy",
        "catch-up",
        "fence",
        "verify",
        "switch",
        "purge",
        "done",
      ]);
      expect(steps.filter((s) => s.step === "copy").length).toBeGreaterThan(10); // batches of 100
      expect(result).toMatchObject({ from: to === "schema" ? "pool" : "schema", to });
      expect(result.routing.version).toBe(before.version + 1);
      expect(result.purge?.verified).toBe(true);
      expect(result.tables.map((t) => t.table).sort()).toEqual(
        ["events", "projects", "tasks"].map((t) => `${result.routing.schema}.${t}`),
      );
      for (const t of result.tables) expect(t.target).toEqual(t.source);
      // The target's statistics were refreshed before the catch-up joined captured keys to it.
      expect(
        analyzedAtCatchUp.filter((t) => t.startsWith(`${result.routing.schema}.`)).sort(),
      ).toEqual(result.tables.map((t) => t.table).sort());
      await expectModelAt("mover", writer.model, 1500);
      // The old placement holds nothing of the tenant any more.
      const oldSchema = `"${before.schema}"`;
      if (to === "schema") {
        expect(
          await superCount(`SELECT count(*) FROM ${oldSchema}.events WHERE tenant_id = $1`, [
            before.tenantId,
          ]),
        ).toBe(0);
        const seq = result.sequences.find((s) => s.sequence.includes("events_id_seq"));
        // Set past the copied maximum: the writer's inserts after the switch did not collide (no 23505 above).
        expect(Number(seq?.value)).toBeGreaterThanOrEqual(1500);
      } else {
        expect(
          await superCount("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [before.schema]),
        ).toBe(0);
        // The shared sequence (the neighbour draws from it too) is past every id of the tenant.
        expect(result.sequences.map((s) => s.sequence)).toContain("app.events_id_seq");
        const tenantMax = await superCount(
          "SELECT COALESCE(max(id), 0) FROM app.events WHERE tenant_id = $1",
          [before.tenantId],
        );
        expect(tenantMax).toBeGreaterThan(1500);
        expect(
          await superCount("SELECT last_value FROM app.events_id_seq", []),
        ).toBeGreaterThanOrEqual(tenantMax);
      }
      // The neighbour's rows were never touched.
      expect(
        await superCount("SELECT count(*) FROM app.projects WHERE tenant_id = $1", [
          neighbour.routing.tenantId,
        ]),
      ).toBe(50);
    }
    // Old routing (version 1, pool): the placement answers with TN002 to reads through the router check.
    const stale = { ...(await routingOf("mover")), version: 1 };
    const err = await withTenant(poolFor(stale), stale.tenantId, (c) =>
      c.query("SELECT tenancy.assert_routing(1)"),
    ).catch((e: { code?: string }) => e);
    expect((err as { code?: string }).code).toBeUndefined(); // back in pool: the pool placement serves it again
  }, 120_000);

  it("keeps the old placement read-only during the grace period: TN002 on writes and on stale routing", async () => {
    const t = await moves.driver.create({ slug: "graceful", mode: "pool", quotas });
    await seed("graceful", 20, 20);
    const stale = await routingOf("graceful");
    const result = await move("graceful", "schema", { graceMs: 3_600_000 });
    expect(result.purge).toBeUndefined();
    expect(result.purgeAfter).toBeInstanceOf(Date);
    const write = await withTenant(poolFor(stale), t.routing.tenantId, (c) =>
      c.query("INSERT INTO events (body) VALUES ('stale')"),
    ).catch((e: { code?: string; message?: string }) => e);
    expect(write).toMatchObject({ code: "TN002" });
    expect((write as Error).message).toMatch(/^tenant moved/);
    const read = await withTenant(poolFor(stale), t.routing.tenantId, (c) =>
      c.query("SELECT tenancy.assert_routing($1)", [stale.version]),
    ).catch((e: { code?: string }) => e);
    expect(read).toMatchObject({ code: "TN002" });
    // The router re-reads the routing and retries once: the write lands in the new schema.
    const stalePinned = createTenantRouter({
      resolve: async (slug) =>
        slug === "graceful" && !pinned.used ? ((pinned.used = true), stale) : routingOf(slug),
      poolFor,
    });
    const pinned = { used: false };
    await stalePinned.withTenant("graceful", (c) =>
      c.query("INSERT INTO events (body) VALUES ('rerouted')"),
    );
    expect(
      await superCount(
        `SELECT count(*) FROM "${result.routing.schema}".events WHERE body = 'rerouted'`,
        [],
      ),
    ).toBe(1);
    await expect(move("graceful", "pool")).rejects.toMatchObject({
      reason: "previous-move-in-grace",
    });
  }, 60_000);

  it("detects a tampered copy, aborts and leaves the tenant on its source", async () => {
    const t = await moves.driver.create({ slug: "tampered", mode: "pool", quotas });
    await seed("tampered", 30, 30);
    const error = await move("tampered", "schema", {
      onProgress: async (p) => {
        if (p.step === "fence") {
          await db.current.pool.query(
            "UPDATE tenant_tampered.events SET body = 'forged' WHERE id = (SELECT min(id) FROM tenant_tampered.events)",
          );
        }
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TenantMoveError);
    expect((error as TenantMoveError).reason).toBe("verify-failed");
    expect((error as Error).message).toMatch(
      /tenant_tampered\.events: 30 rows \(source 30\), 1 changed rows differ \(first key \{"id": \d+, "tenant_id": "[-0-9a-f]+"\}\)/,
    );
    const row = await withAdmin(db.current, (c) => findTenant(c, "tampered"));
    expect(row).toMatchObject({ mode: "pool", routingVersion: 1 });
    expect(
      await superCount("SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_tampered'", []),
    ).toBe(0);
    expect(
      await superCount(
        "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tenancy_move_' || replace($1, '-', '') || '%'",
        [t.routing.tenantId],
      ),
    ).toBe(0);
    await router.withTenant("tampered", (c) =>
      c.query("INSERT INTO events (body) VALUES ('after-abort')"),
    );
    expect(
      await superCount("SELECT count(*) FROM app.events WHERE tenant_id = $1", [
        t.routing.tenantId,
      ]),
    ).toBe(31);
  }, 60_000);

  // The full checksums run before the fence (splitVerify.ts); what changes after them must
  // still be caught under the fence, wherever the difference comes from.
  it.each([
    ["a target row changed behind the mover's back", "target-update"],
    ["a target row deleted behind the mover's back", "target-delete"],
    ["a source write whose captured change was lost", "lost-capture"],
  ] as const)(
    "after the verification before the fence, %s is caught: the move rolls back",
    async (_, fault) => {
      const slug = `late${fault.replace("-", "")}`;
      const t = await moves.driver.create({ slug, mode: "pool", quotas });
      await seed(slug, 5, 40);
      const faults: string[] = [];
      const error = await move(slug, "schema", {
        onProgress: async (p) => {
          if (p.step !== "catch-up" || p.detail?.preVerified !== true) return;
          faults.push(fault);
          const target = `tenant_${slug}.events`;
          if (fault === "target-update") {
            await db.current.pool.query(
              `UPDATE ${target} SET body = 'forged' WHERE id = (SELECT min(id) FROM ${target})`,
            );
          } else if (fault === "target-delete") {
            await db.current.pool.query(
              `DELETE FROM ${target} WHERE id = (SELECT max(id) FROM ${target})`,
            );
          } else {
            await router.withTenant(slug, (c) =>
              c.query("UPDATE events SET body = 'late' WHERE id = (SELECT min(id) FROM events)"),
            );
            const lost = await db.current.pool.query(
              "DELETE FROM tenancy.tenant_move_changes WHERE tenant_id = $1",
              [t.routing.tenantId],
            );
            expect(lost.rowCount).toBeGreaterThan(0);
          }
        },
      }).catch((e: unknown) => e);
      expect(faults).toEqual([fault]);
      expect(error).toBeInstanceOf(TenantMoveError);
      expect((error as TenantMoveError).reason).toBe("verify-failed");
      expect((error as Error).message).toMatch(
        fault === "target-delete"
          ? new RegExp(`tenant_${slug}\\.events: 39 rows \\(source 40\\)`)
          : new RegExp(`tenant_${slug}\\.events: 40 rows \\(source 40\\), 1 changed rows differ`),
      );
      const row = await withAdmin(db.current, (c) => findTenant(c, slug));
      expect(row).toMatchObject({ mode: "pool", routingVersion: 1 });
      expect(
        await superCount("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [
          `tenant_${slug}`,
        ]),
      ).toBe(0);
      await router.withTenant(slug, (c) => c.query("INSERT INTO events (body) VALUES ('after')"));
    },
    60_000,
  );

  it("a mover killed mid-copy leaves the tenant on its source; a re-run resumes and completes, an abort rolls back", async () => {
    for (const slug of ["killed", "aborted"]) {
      await moves.driver.create({ slug, mode: "pool", quotas });
      await seed(slug, 10, 3000);
    }
    const kill = async (p: MoveProgress) => {
      if (p.step === "copy" && Number(p.detail?.rows) >= 1000) {
        await db.current.pool.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
          [`tenancy-move:${p.slug}`],
        );
      }
    };
    for (const slug of ["killed", "aborted"]) {
      await expect(move(slug, "schema", { onProgress: kill })).rejects.toThrow(
        /terminat|Connection/i,
      );
      expect(await withAdmin(db.current, (c) => findTenant(c, slug))).toMatchObject({
        mode: "pool",
        routingVersion: 1,
      });
      // Writes after the kill are captured by the triggers left in place.
      await router.withTenant(slug, (c) =>
        c.query("INSERT INTO events (body) VALUES ('after-kill')"),
      );
    }
    const steps: MoveProgress[] = [];
    const resumed = await move("killed", "schema", { onProgress: (p) => void steps.push(p) });
    expect(steps[0]?.detail?.resumed).toBe(true);
    const firstCopy = steps.find(
      (s) => s.step === "copy" && String(s.detail?.table).endsWith("events"),
    );
    expect(Number(firstCopy?.detail?.rows)).toBeGreaterThan(1000); // resumed after the checkpoint
    expect(resumed.tables.find((t) => t.table.endsWith(".events"))?.target.rows).toBe(3001);
    expect(
      await superCount("SELECT count(*) FROM tenant_killed.events WHERE body = 'after-kill'", []),
    ).toBe(1);

    expect(await abortMove({ ...driverOptions(), slug: "aborted" })).toEqual({ aborted: true });
    expect(
      await superCount("SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_aborted'", []),
    ).toBe(0);
    const aborted = await routingOf("aborted");
    expect(aborted).toMatchObject({ mode: "pool", version: 1 });
    expect(
      await superCount("SELECT count(*) FROM app.events WHERE tenant_id = $1", [aborted.tenantId]),
    ).toBe(3001);
  }, 90_000);

  it("refuses bad moves before copying anything", async () => {
    await moves.driver.create({ slug: "stay", mode: "pool", quotas });
    await expect(move("stay", "pool")).rejects.toThrow(/already in database mode pool/);
    await expect(move("stay", "pool")).rejects.toMatchObject({ reason: "same-placement" });
    await expect(move("ghost", "schema")).rejects.toMatchObject({ reason: "not-found" });
    const bridge = await moves.driver.create({ slug: "bridged", mode: "schema", quotas });
    await db.current.pool.query(
      "CREATE TABLE tenant_bridged.notes (id int PRIMARY KEY, body text)",
    );
    await expect(move("bridged", "pool")).rejects.toThrow(
      /table tenant_bridged\.notes has no tenant_id column/,
    );
    await expect(move("bridged", "pool")).rejects.toMatchObject({
      reason: "table-without-tenant-id",
    });
    expect(
      await superCount("SELECT count(*) FROM tenancy.tenant_moves WHERE tenant_id = $1", [
        bridge.routing.tenantId,
      ]),
    ).toBe(0);
    // One mover per tenant.
    const holder = new pg.Client({ connectionString: db.current.url });
    await holder.connect();
    await holder.query("SELECT pg_advisory_lock(hashtext('tenancy.move'), hashtext('stay'))");
    await expect(move("stay", "schema")).rejects.toMatchObject({ reason: "move-running" });
    await holder.end();
    // Copy pacing: a number from 0 to 100; a paced move copies in batches with pauses between.
    for (const copyPace of [-1, Number.NaN, 101]) {
      await expect(move("stay", "schema", { copyPace })).rejects.toMatchObject({
        reason: "invalid-copy-pace",
      });
    }
    await seed("stay", 250, 10);
    const copies: number[] = [];
    const paces = new Set<unknown>();
    const paced = await move("stay", "schema", {
      copyPace: 1,
      onProgress: (p) => {
        if (p.step === "copy") copies.push(Number(p.detail?.rows));
        if (p.step === "copy" || p.step === "capture") paces.add(p.detail?.copyPace);
      },
    });
    expect(paced).toMatchObject({ from: "pool", to: "schema" });
    expect(copies.length).toBeGreaterThan(5); // batches of 100 over 250 projects, 500 tasks
    expect([...paces]).toEqual([1]);
    // Without the option a move runs at the default pace.
    const defaults = new Set<unknown>();
    await move("stay", "pool", {
      onProgress: (p) => {
        if (p.step === "copy") defaults.add(p.detail?.copyPace);
      },
    });
    expect([...defaults]).toEqual([DEFAULT_COPY_PACE]);
  });

  it("tenancy db move: usage errors exit 2, a move prints each step and exits 0", async () => {
    await moves.driver.create({ slug: "clitenant", mode: "pool", quotas });
    await seed("clitenant", 5, 5);
    const dir = await mkdtemp(join(tmpdir(), "moves-cli-"));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      await copyFile(join(DEFAULT_MIGRATIONS_DIR, f), join(dir, f));
    }
    await writeFile(join(dir, "0100_events.sql"), moves.migrations.at(-1)?.sql ?? "");
    const run = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runDbCommand(
        [
          "move",
          "--database-url",
          db.current.url,
          "--role-prefix",
          db.current.rolePrefix,
          "--database-prefix",
          db.current.name,
          "--tenant",
          "clitenant",
          ...args,
        ],
        { stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
      );
      return { code, out: out.join(""), err: err.join("") };
    };
    const noTarget = await run();
    expect(noTarget.code).toBe(2);
    expect(noTarget.err).toMatch(/move needs --to pool\|schema\|dedicated, got nothing/);
    const badGrace = await run("--to", "schema", "--grace", "2x");
    expect(badGrace.code).toBe(1);
    expect(badGrace.err).toMatch(/--grace must look like 24h/);
    const badPace = await run("--to", "schema", "--copy-pace", "fast");
    expect(badPace.code).toBe(1);
    expect(badPace.err).toMatch(/--copy-pace must be a number from 0 to 100, got "fast"/);
    const moved = await run(
      "--to",
      "schema",
      "--grace",
      "0",
      "--copy-pace",
      "2",
      "--migrations",
      dir,
    );
    expect(moved.err).toBe("");
    expect(moved.code).toBe(0);
    expect(moved.out).toMatch(/^prepare: moving clitenant from pool to schema$/m);
    expect(moved.out).toMatch(
      /^capture: capturing the tenant's writes on \d+ tables; copy pace 2$/m,
    );
    expect(moved.out).toMatch(/^switch: routing switched to schema \(version 2\)$/m);
    expect(moved.out).toMatch(/^tenant_clitenant\.projects: 5 rows, checksum -?\d+$/m);
    expect(moved.out).toMatch(/^purge: old placement pool \(app\) purged and verified$/m);
    expect(await routingOf("clitenant")).toMatchObject({ mode: "schema", version: 2 });
  }, 60_000);
});
