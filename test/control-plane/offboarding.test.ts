/**
 * An offboarded tenant never comes back: once DELETE is accepted, only the offboarding (and
 * its retries) may run; later changes are 409 `tenant-offboarding`, queued ones are cancelled
 * with that reason, and a change still running when DELETE arrives cannot reactivate it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Catalog } from "../../catalog/index.ts";
import { reconcile } from "../../control-plane/service/reconcile.ts";
import { TenantTransitionRefused } from "../../control-plane/store/transitions.ts";
import { updateTenant } from "../../control-plane/store/store.ts";
import {
  exampleTiers,
  startTestControlPlane,
  type TestControlPlane,
} from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";
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

interface Accepted {
  tenant: { state: string };
  operation: { id: string; state: string; kind: string };
}

async function signUp(slug: string): Promise<void> {
  const response = await plane.request("/v1/tenants", {
    method: "POST",
    json: { slug, name: slug, tier: "free" },
  });
  expect(response.status).toBe(202);
  expect(((await response.json()) as Accepted).tenant.state).toBe("active");
}

async function operations(slug: string) {
  const { rows } = await plane.pool.query<{ kind: string; state: string; error: string | null }>(
    `SELECT kind, state, error FROM control_plane.operations WHERE tenant_slug = $1 ORDER BY created_at`,
    [slug],
  );
  return rows;
}

async function tenantState(slug: string): Promise<string | undefined> {
  const { rows } = await plane.pool.query<{ state: string }>(
    "SELECT state FROM control_plane.tenants WHERE slug = $1",
    [slug],
  );
  return rows[0]?.state;
}

async function registered(slug: string): Promise<boolean> {
  const shared = new pg.Client({ connectionString: plane.sharedUrl });
  await shared.connect();
  try {
    return (
      (await shared.query("SELECT 1 FROM tenancy.tenants WHERE slug = $1", [slug])).rowCount === 1
    );
  } finally {
    await shared.end();
  }
}

describe("offboarding is final", () => {
  it("queued changes are cancelled, later changes refused, and the tenant ends deleted", async () => {
    await signUp("wren");
    // Another session holds the tenant's lock: every change queues up behind it.
    const holder = new pg.Client({ connectionString: plane.pool.options.connectionString });
    await holder.connect();
    await holder.query("SELECT pg_advisory_lock(hashtext('tenancy:tenant:wren'))");
    for (const timeout of [11_000, 12_000, 13_000]) {
      const patched = await plane.request("/v1/tenants/wren", {
        method: "PATCH",
        json: { quotas: { statementTimeoutMs: timeout } },
      });
      expect(patched.status).toBe(202);
      expect(((await patched.json()) as Accepted).operation.state).toBe("queued");
    }
    const deleted = await plane.request("/v1/tenants/wren", { method: "DELETE" });
    expect(deleted.status).toBe(202);
    expect(((await deleted.json()) as Accepted).tenant.state).toBe("offboarding");

    const again = await plane.request("/v1/tenants/wren", {
      method: "PATCH",
      json: { lifecycle: "active" },
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { reason: string }).reason).toBe("tenant-offboarding");
    expect(await operations("wren")).toEqual([
      { kind: "signup", state: "succeeded", error: null },
      { kind: "update", state: "cancelled", error: "tenant-offboarding" },
      { kind: "update", state: "cancelled", error: "tenant-offboarding" },
      { kind: "update", state: "cancelled", error: "tenant-offboarding" },
      { kind: "offboard", state: "queued", error: null },
    ]);

    await holder.query("SELECT pg_advisory_unlock(hashtext('tenancy:tenant:wren'))");
    await holder.end();
    await waitFor(async () => (await tenantState("wren")) === "deleted", 30_000);
    // Give any straggler time to (wrongly) run: nothing may bring the tenant back.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await tenantState("wren")).toBe("deleted");
    expect((await operations("wren")).map((o) => o.state)).toEqual([
      "succeeded",
      "cancelled",
      "cancelled",
      "cancelled",
      "succeeded",
    ]);
    expect(await registered("wren")).toBe(false);
    const later = await plane.request("/v1/tenants/wren", {
      method: "PATCH",
      json: { lifecycle: "active" },
    });
    expect(later.status).toBe(404);
  }, 60_000);

  it("a change still running when DELETE arrives finishes cancelled, never reactivating the tenant", async () => {
    await signUp("finch");
    // Stall the change inside its run: the registry row update waits for this lock.
    const shared = new pg.Client({ connectionString: plane.sharedUrl });
    await shared.connect();
    await shared.query("BEGIN");
    await shared.query("LOCK TABLE tenancy.tenants IN EXCLUSIVE MODE");
    const patch = plane.request("/v1/tenants/finch", {
      method: "PATCH",
      json: { quotas: { statementTimeoutMs: 14_000 } },
    });
    await waitFor(async () => (await operations("finch"))[1]?.state === "running");
    const deleted = await plane.request("/v1/tenants/finch", { method: "DELETE" });
    expect(deleted.status).toBe(202);
    await shared.query("COMMIT");
    await shared.end();
    const answered = (await (await patch).json()) as Accepted;
    expect(answered.operation.state).toBe("cancelled");
    expect(answered.tenant.state).toBe("offboarding");
    await waitFor(async () => (await tenantState("finch")) === "deleted", 30_000);
    expect(await operations("finch")).toEqual([
      { kind: "signup", state: "succeeded", error: null },
      { kind: "update", state: "cancelled", error: "tenant-offboarding" },
      { kind: "offboard", state: "succeeded", error: null },
    ]);
  }, 60_000);

  it("the store refuses transitions out of offboarding and deleted, whoever asks", async () => {
    await signUp("heron-x");
    await updateTenant(plane.pool, "heron-x", { state: "offboarding" });
    await expect(updateTenant(plane.pool, "heron-x", { state: "active" })).rejects.toThrow(
      TenantTransitionRefused,
    );
    await expect(updateTenant(plane.pool, "heron-x", { state: "failed" })).rejects.toThrow(
      "cannot go from offboarding to failed",
    );
    await updateTenant(plane.pool, "heron-x", { state: "deleted" });
    for (const state of ["provisioning", "active", "offboarding", "deleted"] as const) {
      await expect(updateTenant(plane.pool, "heron-x", { state })).rejects.toThrow(
        TenantTransitionRefused,
      );
    }
    expect(await tenantState("heron-x")).toBe("deleted");
  });

  it("a deleted tenant is never signed up again: 409 over the API, a refused line from reconcile", async () => {
    await signUp("ibis");
    expect((await plane.request("/v1/tenants/ibis", { method: "DELETE" })).status).toBe(202);
    await waitFor(async () => (await tenantState("ibis")) === "deleted", 30_000);
    const before = await operations("ibis");

    const again = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "ibis", name: "Ibis again", tier: "free" },
    });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = (await again.json()) as { reason: string; detail: string };
    expect(problem.reason).toBe("tenant-exists");
    expect(problem.detail).toBe(
      'tenant "ibis" was offboarded and is deleted; a deleted tenant is never signed up again ' +
        "(its deletion report is kept under its slug): choose another slug",
    );

    // The catalog still lists it as active: reconcile refuses, naming it and its file.
    const catalog: Catalog = {
      tiers: await exampleTiers(),
      tenants: [
        {
          file: "tenants/ibis.yaml",
          spec: { slug: "ibis", name: "Ibis", tier: "free", lifecycle: "active" },
        },
        {
          file: "tenants/jay.yaml",
          spec: { slug: "jay", name: "Jay", tier: "free", lifecycle: "active" },
        },
      ],
    };
    const steps = await reconcile(plane.pool, plane.service, catalog);
    expect(steps[0]).toEqual({
      slug: "ibis",
      action: "refused",
      detail:
        'tenant "ibis" was offboarded and is deleted; reconcile never signs a deleted tenant ' +
        "up again: remove tenants/ibis.yaml or declare it lifecycle: offboarding",
    });
    expect(steps[1]).toMatchObject({ slug: "jay", action: "signup" });
    expect(await tenantState("ibis")).toBe("deleted");
    expect(await operations("ibis")).toEqual(before);
    expect(await registered("ibis")).toBe(false);
  }, 60_000);
});
