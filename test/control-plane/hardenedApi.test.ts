/**
 * The API's edges, as an attacker or an unlucky client would try them: auth scheme case,
 * operator-only documents, text PostgreSQL cannot store, prototype keys as tiers, malformed
 * ids, pagination, lifecycle on signup and export, logged 5xx, and queue depth.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { tenantToken } from "../../control-plane/http/auth.ts";
import { exportTenants } from "../../control-plane/service/reconcile.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
let plane: TestControlPlane;

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name);
  for (const slug of ["ant", "bee", "cicada", "dragonfly", "earwig", "firefly", "gnat"]) {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: slug, tier: "free" },
    });
    expect(response.status).toBe(202);
  }
});
afterAll(async () => {
  await plane?.stop();
});

async function tenantCount(): Promise<number> {
  const { rows } = await plane.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM control_plane.tenants",
  );
  return rows[0]!.n;
}

async function problemOf(response: Response) {
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return { status: response.status, ...((await response.json()) as { reason: string }) };
}

describe("authentication edges", () => {
  it.each(["bearer", "BEARER", "BeArEr"])(
    "the %s scheme is accepted (RFC 7235)",
    async (scheme) => {
      const response = await plane.request("/v1/tenants", {
        headers: { authorization: `${scheme} ${plane.token}` },
      });
      expect(response.status).toBe(200);
    },
  );

  it.each(["/metrics", "/openapi.json"])("a tenant token cannot read %s", async (path) => {
    const response = await plane.request(path, {
      headers: { authorization: `Bearer ${tenantToken(plane.token, "ant")}` },
    });
    expect(await problemOf(response)).toMatchObject({ status: 403, reason: "forbidden" });
  });
});

describe("weird inputs are 4xx, never 500", () => {
  it.each([
    ["tier __proto__", JSON.stringify({ slug: "w1", name: "W", tier: "__proto__" })],
    ["tier constructor", JSON.stringify({ slug: "w2", name: "W", tier: "constructor" })],
    ["tier toString", JSON.stringify({ slug: "w3", name: "W", tier: "toString" })],
    ["NUL in a string", JSON.stringify({ slug: "w4", name: "a\u0000b", tier: "free" })],
    ["lone surrogate", '{"slug":"w5","name":"a\\ud800b","tier":"free"}'],
    [
      "NUL in a tag key",
      JSON.stringify({ slug: "w6", name: "W", tier: "free", tags: { "k\u0000": "v" } }),
    ],
  ])("%s", async (_case, body) => {
    const before = await tenantCount();
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const problem = await problemOf(response);
    expect(problem.status).toBeGreaterThanOrEqual(400);
    expect(problem.status).toBeLessThan(500);
    expect(await tenantCount()).toBe(before);
  });

  it("a NUL in the path is 400, an operation id of 36 dashes is 404", async () => {
    expect(await problemOf(await plane.request("/v1/tenants/%00"))).toMatchObject({
      status: 400,
      reason: "invalid-characters",
    });
    expect(await problemOf(await plane.request(`/v1/operations/${"-".repeat(36)}`))).toMatchObject({
      status: 404,
      reason: "operation-not-found",
    });
    expect(
      await problemOf(await plane.request(`/v1/operations/${"-".repeat(36)}/events`)),
    ).toMatchObject({ status: 404, reason: "operation-not-found" });
  });

  it("every 5xx is logged, even with the Fastify logger off", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    await plane.pool.query("ALTER TABLE control_plane.idempotency_keys RENAME TO keys_moved");
    try {
      const response = await plane.request("/v1/tenants", {
        method: "POST",
        headers: { "idempotency-key": "five-hundred" },
        json: { slug: "w7", name: "W", tier: "free" },
      });
      expect(await problemOf(response)).toMatchObject({ status: 500, reason: "internal-error" });
      expect(logged.mock.calls.map((c) => String(c[0]))).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^tenancy: 500 on POST \/v1\/tenants: .*idempotency_keys/s),
        ]),
      );
    } finally {
      await plane.pool.query("ALTER TABLE control_plane.keys_moved RENAME TO idempotency_keys");
      logged.mockRestore();
    }
  });
});

describe("GET /v1/tenants is paginated", () => {
  it("returns pages of `limit` tenants with a `next` link until the last page", async () => {
    const seen: string[] = [];
    let next: string | null = "/v1/tenants?limit=3";
    let pages = 0;
    while (next) {
      const response = await plane.request(next);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { tenants: { slug: string }[]; next: string | null };
      expect(body.tenants.length).toBeLessThanOrEqual(3);
      if (body.next) expect(response.headers.get("link")).toBe(`<${body.next}>; rel="next"`);
      seen.push(...body.tenants.map((t) => t.slug));
      next = body.next;
      pages++;
    }
    const { rows } = await plane.pool.query<{ slug: string }>(
      "SELECT slug FROM control_plane.tenants WHERE state <> 'deleted' ORDER BY slug",
    );
    expect(seen).toEqual(rows.map((r) => r.slug));
    expect(pages).toBe(Math.ceil(rows.length / 3));
  });

  it("refuses a forged cursor and an out-of-range limit", async () => {
    expect(await problemOf(await plane.request("/v1/tenants?cursor=bm9wZQ"))).toMatchObject({
      status: 400,
      reason: "invalid-cursor",
    });
    expect((await plane.request("/v1/tenants?limit=0")).status).toBe(400);
    expect((await plane.request("/v1/tenants?limit=100000")).status).toBe(400);
  });
});

describe("lifecycle on signup and export", () => {
  it("signup refuses lifecycle offboarding (422) and creates nothing", async () => {
    const before = await tenantCount();
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "ghost", name: "Ghost", tier: "free", lifecycle: "offboarding" },
    });
    const body = (await problemOf(response)) as unknown as {
      status: number;
      reason: string;
      errors: { path: string }[];
    };
    expect(body).toMatchObject({ status: 422, reason: "invalid-tenant" });
    expect(body.errors.map((e) => e.path)).toEqual(["lifecycle"]);
    expect(await tenantCount()).toBe(before);
  });

  it("export writes the lifecycle a tenant is in, never offboarding for a live tenant", async () => {
    // A row stored before signup validated lifecycle: spec says offboarding, tenant is active.
    await plane.pool.query(
      `UPDATE control_plane.tenants SET spec = jsonb_set(spec, '{lifecycle}', '"offboarding"')
        WHERE slug = 'bee'`,
    );
    const suspended = await plane.request("/v1/tenants/cicada", {
      method: "PATCH",
      json: { lifecycle: "suspended" },
    });
    expect(suspended.status).toBe(202);
    const dir = await mkdtemp(join(tmpdir(), "tenancy-export-"));
    await exportTenants(plane.pool, dir);
    const lifecycle = async (slug: string) =>
      /^lifecycle: (\w+)$/m.exec(await readFile(join(dir, `${slug}.yaml`), "utf8"))?.[1];
    expect(await lifecycle("bee")).toBe("active");
    expect(await lifecycle("cicada")).toBe("suspended");
    expect(await lifecycle("ant")).toBe("active");
  });
});

describe("metrics", () => {
  it("queue depth does not count the delayed safety-net jobs of pooled signups", async () => {
    const { rows } = await plane.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM control_plane_jobs.job
        WHERE state = 'created' AND start_after > now()`,
    );
    expect(rows[0]!.n).toBeGreaterThan(0); // the signups above left their safety nets
    const text = await (await plane.request("/metrics")).text();
    expect(text).toMatch(/^tenancy_queue_depth 0$/m);
  });
});
