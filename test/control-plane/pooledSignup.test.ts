import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
let plane: TestControlPlane;

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name);
});
afterAll(async () => {
  await plane?.stop();
});

interface Accepted {
  tenant: {
    slug: string;
    state: string;
    routing: { database?: { tenantId?: string; mode?: string } } | null;
  };
  operation: { id: string; state: string; kind: string };
}

describe("pooled signup over HTTP", () => {
  it("a free-tier tenant is active in the signup response and registered in the shared database", async () => {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "kite", name: "Kite", tier: "free" },
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Accepted;
    expect(body.tenant.state).toBe("active");
    expect(body.operation).toMatchObject({ kind: "signup", state: "succeeded" });
    expect(body.tenant.routing?.database?.mode).toBe("pool");

    const shared = new pg.Client({ connectionString: plane.sharedUrl });
    await shared.connect();
    try {
      const { rows } = await shared.query("SELECT slug FROM tenancy.tenants WHERE slug = 'kite'");
      expect(rows).toEqual([{ slug: "kite" }]);
    } finally {
      await shared.end();
    }
  });

  it("the same Idempotency-Key under concurrent retries gives one tenant and one operation", async () => {
    const send = () =>
      plane.request("/v1/tenants", {
        method: "POST",
        headers: { "idempotency-key": "signup-lark-1" },
        json: { slug: "lark", name: "Lark", tier: "free" },
      });
    const responses = await Promise.all(Array.from({ length: 8 }, send));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(202));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Accepted[];
    expect(new Set(bodies.map((b) => b.operation.id)).size).toBe(1);
    const { rows } = await plane.pool.query(
      "SELECT (SELECT count(*) FROM control_plane.tenants WHERE slug = 'lark')::int AS tenants, (SELECT count(*) FROM control_plane.operations WHERE tenant_slug = 'lark')::int AS operations",
    );
    expect(rows[0]).toEqual({ tenants: 1, operations: 1 });

    const reused = await plane.request("/v1/tenants", {
      method: "POST",
      headers: { "idempotency-key": "signup-lark-1" },
      json: { slug: "lark", name: "Lark Two", tier: "free" },
    });
    expect(reused.status).toBe(409);
    expect(((await reused.json()) as { reason: string }).reason).toBe("idempotency-key-reused");
  });

  it("200 concurrent pooled signups all succeed, none duplicated", async () => {
    const slugs = Array.from({ length: 200 }, (_, i) => `bulk-${i}`);
    const responses = await Promise.all(
      slugs.map((slug) =>
        plane.request("/v1/tenants", { method: "POST", json: { slug, name: slug, tier: "free" } }),
      ),
    );
    expect(responses.filter((r) => r.status !== 202).length).toBe(0);
    const { rows } = await plane.pool.query<{ state: string; n: number }>(
      "SELECT state, count(*)::int AS n FROM control_plane.tenants WHERE slug LIKE 'bulk-%' GROUP BY state",
    );
    expect(rows).toEqual([{ state: "active", n: 200 }]);
    const again = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "bulk-7", name: "x", tier: "free" },
    });
    expect(again.status).toBe(409);
  });

  it("offboarding a pooled tenant purges it and keeps the deletion report", async () => {
    const response = await plane.request("/v1/tenants/kite", { method: "DELETE" });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Accepted;
    expect(body.operation).toMatchObject({ kind: "offboard", state: "succeeded" });
    const read = await plane.request("/v1/tenants/kite");
    const tenant = (await read.json()) as { state: string; deletionReport?: { report: unknown } };
    expect(tenant.state).toBe("deleted");
    expect(tenant.deletionReport?.report).toBeTruthy();
  });
});
