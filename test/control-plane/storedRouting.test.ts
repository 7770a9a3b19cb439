/**
 * Routing records stored before the contract (no `tenantId`, or fields the strict schema does
 * not know) must not turn a read into a 500: the API serves `routing: null` for them until
 * the tenant's next operation writes a record in the contract's shape, and keeps the row.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routingRecordSchema } from "../../contract/index.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
let plane: TestControlPlane;

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name);
  for (const slug of ["kestrel", "merlin"]) {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: slug, tier: "free" },
    });
    expect(response.status).toBe(202);
  }
  // kestrel's record as the previous release stored it: no tenantId, an extra field.
  await plane.pool.query(
    `UPDATE control_plane.tenants
        SET routing = (routing #- '{database,tenantId}') || '{"legacy": true}'::jsonb
      WHERE slug = 'kestrel'`,
  );
});
afterAll(async () => {
  await plane?.stop();
});

describe("routing records stored before the contract", () => {
  it("are served as null, not a 500, and the stored row is kept", async () => {
    const response = await plane.request("/v1/tenants/kestrel");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { routing: unknown };
    expect(body.routing).toBeNull();
    const { rows } = await plane.pool.query<{ routing: { legacy?: boolean } }>(
      "SELECT routing FROM control_plane.tenants WHERE slug = 'kestrel'",
    );
    expect(rows[0]!.routing.legacy).toBe(true);
  });

  it("do not break the list; current records are served whole", async () => {
    const response = await plane.request("/v1/tenants");
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      tenants: { slug: string; routing: unknown }[];
    };
    const bySlug = new Map(body.tenants.map((t) => [t.slug, t.routing]));
    expect(bySlug.get("kestrel")).toBeNull();
    const merlin = routingRecordSchema.parse(bySlug.get("merlin"));
    expect(merlin.database.tenantId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
