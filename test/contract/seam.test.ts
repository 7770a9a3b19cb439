/**
 * The contract across the Automation API seam, checked at every door: the slug rule
 * (catalog, db driver, API), and the routing record the API serves (same shape, with
 * `tenantId`, described in the OpenAPI document).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDiagnostic, validateCatalogFiles } from "../../catalog/index.ts";
import { routingRecordSchema, slugProblem } from "../../contract/index.ts";
import { createTenantDatabaseDriver } from "../../db/drivers/index.ts";
import { catalogFiles } from "../catalog/fixtures.ts";
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

const quotas = { dbConnections: 2, statementTimeoutMs: 1000 };

describe("a one-letter slug is refused at every door, with the same reason", () => {
  const reason = "must be at least 2 characters (got 1)";

  it("the rule itself", () => {
    expect(slugProblem("q")).toBe(reason);
    expect(slugProblem("qq")).toBeUndefined();
  });

  it("the catalog, at the slug's file:line:col", () => {
    const result = validateCatalogFiles(
      catalogFiles({ "q.yaml": "name: Q\ntier: free\nslug: q\n" }),
    );
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map(formatDiagnostic)).toContain(
      `tenants/q.yaml:3:7: slug: ${reason}`,
    );
  });

  it("the db driver, for every mode, before touching the database", async () => {
    const driver = createTenantDatabaseDriver({
      adminUrl: plane.sharedUrl,
      rolePrefix: db.current.name,
    });
    for (const mode of ["pool", "schema", "dedicated"] as const) {
      await expect(driver.create({ slug: "q", mode, quotas })).rejects.toThrow(
        `invalid tenant database spec for q: slug: ${reason}`,
      );
    }
    const { rows } = await plane.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM control_plane.tenants WHERE slug = 'q'",
    );
    expect(rows[0]!.n).toBe(0);
  });

  it("the API, as a 400 problem naming the field", async () => {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "q", name: "Q", tier: "free" },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { reason: string; errors: unknown[] };
    expect(body.reason).toBe("invalid-request");
    expect(body.errors).toEqual([{ path: "body.slug", message: reason }]);
  });
});

describe("the routing record the API serves", () => {
  it("a pooled tenant's routing is the contract's record, with the registry's tenantId", async () => {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "plover", name: "Plover", tier: "free" },
    });
    expect(response.status).toBe(202);
    const { tenant } = (await response.json()) as { tenant: { routing: unknown } };
    // Strict schema: a field the stack path does not export (slug, searchPath, quotas) fails.
    const routing = routingRecordSchema.parse(tenant.routing);
    const registered = await registryId(plane.sharedUrl, "plover");
    expect(routing).toEqual({
      database: {
        mode: "pool",
        tenantId: registered,
        host: expect.any(String) as unknown,
        port: expect.any(Number) as unknown,
        database: `${db.current.name}_shared`,
        schema: "app",
        role: `${db.current.name}_app`,
        version: 1,
      },
      notProvisioned: [],
    });
    const read = (await (await plane.request("/v1/tenants/plover")).json()) as {
      routing: unknown;
    };
    expect(read.routing).toEqual(routing);
  });

  it("the OpenAPI document describes the routing record, tenantId included", async () => {
    const doc = (await (await plane.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const ok = doc.paths["/v1/tenants/{slug}"]!["get"]!.responses["200"] as {
      content: { "application/json": { schema: { properties: Record<string, unknown> } } };
    };
    const record = ok.content["application/json"].schema.properties["routing"] as {
      nullable: boolean;
      required: string[];
      properties: { database: { required: string[] } };
    };
    expect(record.nullable).toBe(true);
    expect(record.required).toEqual(expect.arrayContaining(["database", "notProvisioned"]));
    expect(record.properties.database.required).toEqual(
      expect.arrayContaining(["mode", "tenantId", "host", "port", "database", "schema", "role"]),
    );
  });
});

async function registryId(url: string, slug: string): Promise<string> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      "SELECT id::text FROM tenancy.tenants WHERE slug = $1",
      [slug],
    );
    return rows[0]!.id;
  } finally {
    await client.end();
  }
}
