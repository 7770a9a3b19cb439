/**
 * Bad input to a tier move over the HTTP API and `tenancy move`, without the Pulumi engine
 * (a build is "under way" the whole file, so operations that need it wait): the same
 * placement moves nothing and says so; an unknown tier is a 422; a suspended or offboarding
 * tenant is a 409 with its reason; a second, different move while one is queued is a 409 and
 * the same move again is that move; a move that needs the engine waits for it (no attempt
 * used, the tenant still on its source) instead of failing; with no engine and no build under
 * way it fails with the engine's reason, the tenant active on its source. (A table without
 * tenant_id in the tenant's data is refused by name before anything is copied:
 * test/engine/moveBadTable.test.ts over the API on the real engine, test/db/moves.test.ts in
 * the mover.)
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiProblem } from "../../cli/apiClient.ts";
import { moveCommand } from "../../cli/moveCommand.ts";
import { ENGINE_MISSING_REASON, lazyStackRunner } from "../../control-plane/runner/lazyRunner.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { engineMissingSettings } from "../support/engine.ts";
import { fileStackConfig } from "../support/engineControlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
let plane: TestControlPlane;
/** Whether the engine build is said to be under way. */
let building = true;

interface OperationView {
  id: string;
  kind: string;
  state: string;
  attempts: number;
  error: string | null;
}
interface TenantView {
  state: string;
  tier: string;
  routing?: { database: { mode: string } };
}

beforeAll(async () => {
  // No engine on PATH nor in the build cache; a build is said to be under way.
  const { stateDir, env } = await engineMissingSettings("no");
  const runner = lazyStackRunner({ stateDir, env }, fileStackConfig(db.current), {
    buildInProgress: () => building,
  });
  plane = await startTestControlPlane(db.current.name, { runner });
}, 120_000);
afterAll(async () => {
  await plane?.stop();
}, 60_000);

async function signUp(slug: string, extra: object = {}): Promise<void> {
  const response = await plane.request("/v1/tenants", {
    method: "POST",
    json: { slug, name: slug, tier: "free", ...extra },
  });
  expect(response.status).toBe(202);
}

async function tenant(slug: string): Promise<TenantView> {
  return (await (await plane.request(`/v1/tenants/${slug}`)).json()) as TenantView;
}

async function operation(id: string): Promise<OperationView> {
  return (await (await plane.request(`/v1/operations/${id}`)).json()) as OperationView;
}

async function expectProblem(response: Response, status: number, reason: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as { status: number; reason: string; detail?: string };
  expect(body).toMatchObject({ status, reason });
  return body;
}

const move = (slug: string, to: string) =>
  plane.request(`/v1/tenants/${slug}/move`, { method: "POST", json: { to } });
const patch = (slug: string, json: object) =>
  plane.request(`/v1/tenants/${slug}`, { method: "PATCH", json });

/** `tenancy move` against the plane: exit code and what it printed, or the problem it threw. */
async function cliMove(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const saved = process.env.TENANCY_API_TOKEN;
  process.env.TENANCY_API_TOKEN = plane.token;
  try {
    const code = await moveCommand([...argv, "--url", plane.baseUrl], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
    });
    return { code, stdout, stderr };
  } finally {
    if (saved === undefined) delete process.env.TENANCY_API_TOKEN;
    else process.env.TENANCY_API_TOKEN = saved;
  }
}

/** Holds the tenant's operation lock from another session: its operations stay queued. */
async function holdTenantLock(slug: string): Promise<() => Promise<void>> {
  const holder = new pg.Client({ connectionString: plane.controlUrl });
  await holder.connect();
  await holder.query("SELECT pg_advisory_lock(hashtext($1))", [`tenancy:tenant:${slug}`]);
  return async () => {
    await holder.query("SELECT pg_advisory_unlock(hashtext($1))", [`tenancy:tenant:${slug}`]);
    await holder.end();
  };
}

describe("bad input to a move", () => {
  it("the same placement: 200 with no operation, saying so (API and CLI), no move operation recorded", async () => {
    await signUp("same-place");
    const same = await move("same-place", "pool");
    expect(same.status).toBe(200);
    const body = (await same.json()) as { operation: null; message: string };
    expect(body.operation).toBeNull();
    expect(body.message).toContain("already in database mode pool (tier free): nothing to move");
    const cli = await cliMove("same-place", "--to", "free");
    expect(cli).toMatchObject({ code: 0, stderr: "" });
    expect(cli.stdout).toContain("already in database mode pool (tier free): nothing to move");
    const { rows } = await plane.pool.query(
      "SELECT 1 FROM control_plane.operations WHERE tenant_slug = 'same-place' AND kind = 'move'",
    );
    expect(rows).toEqual([]);
  });

  it("an unknown tier: 422 over PATCH and POST /move, a 422 problem from the CLI; nothing changes", async () => {
    await signUp("unknown-tier");
    const patched = await patch("unknown-tier", { tier: "platinum" });
    expect(patched.status).toBe(422);
    expect(patched.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(await patched.json())).toContain("platinum");
    await expectProblem(await move("unknown-tier", "platinum"), 422, "invalid-move-target");
    await expect(cliMove("unknown-tier", "--to", "platinum")).rejects.toMatchObject({
      status: 422,
      reason: "invalid-move-target",
    });
    await expect(cliMove("unknown-tier", "--to", "platinum")).rejects.toBeInstanceOf(ApiProblem);
    expect(await tenant("unknown-tier")).toMatchObject({ tier: "free", state: "active" });
  });

  it("a suspended tenant: 409 tenant-suspended over POST /move and PATCH; nothing changes", async () => {
    await signUp("asleep", { lifecycle: "suspended" });
    await expectProblem(await move("asleep", "pro"), 409, "tenant-suspended");
    await expectProblem(await patch("asleep", { tier: "pro" }), 409, "tenant-suspended");
    expect((await tenant("asleep")).tier).toBe("free");
  });

  it("an offboarding tenant: 409 tenant-offboarding over POST /move and PATCH", async () => {
    await signUp("leaving");
    const release = await holdTenantLock("leaving");
    try {
      const deleted = await plane.request("/v1/tenants/leaving", { method: "DELETE" });
      expect(deleted.status).toBe(202);
      expect((await tenant("leaving")).state).toBe("offboarding");
      await expectProblem(await move("leaving", "pro"), 409, "tenant-offboarding");
      await expectProblem(await patch("leaving", { tier: "pro" }), 409, "tenant-offboarding");
      const { rows } = await plane.pool.query(
        "SELECT 1 FROM control_plane.operations WHERE tenant_slug = 'leaving' AND kind = 'move'",
      );
      expect(rows).toEqual([]);
    } finally {
      await release();
    }
  });

  it("two moves at once: a different move is 409 tenant-moving; the same move again is that move", async () => {
    await signUp("twice");
    const release = await holdTenantLock("twice");
    try {
      const first = await move("twice", "pro");
      expect(first.status).toBe(202);
      const { operation: op } = (await first.json()) as { operation: OperationView };
      expect(op.kind).toBe("move");
      // A different move (pro with its own database) while the first is queued.
      const other = await expectProblem(
        await patch("twice", { tier: "pro", overrides: { database: "dedicated" } }),
        409,
        "tenant-moving",
      );
      expect(other.detail).toContain(op.id);
      await expectProblem(await move("twice", "free"), 409, "tenant-moving");
      const again = await move("twice", "pro");
      expect(((await again.json()) as { operation: OperationView }).operation.id).toBe(op.id);
      const { rows } = await plane.pool.query(
        "SELECT id FROM control_plane.operations WHERE tenant_slug = 'twice' AND kind = 'move'",
      );
      expect(rows.map((r: { id: string }) => r.id)).toEqual([op.id]);
    } finally {
      await release();
    }
  });

  it("a move while the engine is being built waits for it: no attempt used, not failed, tenant still on its source", async () => {
    await signUp("patient");
    const response = await move("patient", "pro");
    expect(response.status).toBe(202);
    const { operation: op } = (await response.json()) as { operation: OperationView };
    const deadline = Date.now() + 30_000;
    while ((await operation(op.id)).state !== "waiting-for-engine") {
      if (Date.now() > deadline) throw new Error(`move ${op.id} never waited for the engine`);
      await new Promise((r) => setTimeout(r, 300));
    }
    // Several looks later: still waiting, no attempt used, nothing moved.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      expect(await operation(op.id)).toMatchObject({
        state: "waiting-for-engine",
        attempts: 0,
        error: null,
      });
    }
    const t = await tenant("patient");
    expect([t.tier, t.routing?.database.mode]).toEqual(["free", "pool"]);
  }, 60_000);

  it("a move while the engine is missing and no build runs: fails with the engine's reason, the tenant active on its source", async () => {
    await signUp("no-engine");
    building = false;
    try {
      const response = await move("no-engine", "pro");
      expect(response.status).toBe(202);
      const { operation: op } = (await response.json()) as { operation: OperationView };
      const deadline = Date.now() + 30_000;
      let seen = await operation(op.id);
      while (!["failed", "succeeded"].includes(seen.state)) {
        if (Date.now() > deadline) throw new Error(`move ${op.id} still ${seen.state}`);
        await new Promise((r) => setTimeout(r, 300));
        seen = await operation(op.id);
      }
      expect(seen.state).toBe("failed");
      expect(seen.error).toContain(ENGINE_MISSING_REASON);
      const t = await tenant("no-engine");
      expect([t.state, t.tier, t.routing?.database.mode]).toEqual(["active", "free", "pool"]);
    } finally {
      building = true;
    }
  }, 60_000);
});
