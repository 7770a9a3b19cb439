import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantDatabaseDriver, type TenantDatabaseDriver } from "../../db/drivers/index.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { bootstrapped, type Bootstrapped } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
let driver: TenantDatabaseDriver;

beforeAll(async () => {
  env = await bootstrapped(db.current);
  driver = createTenantDatabaseDriver({
    adminUrl: db.current.url,
    rolePrefix: db.current.rolePrefix,
  });
});
afterAll(async () => {
  await env?.close();
});

describe("provisioning and offboarding several tenants at once", () => {
  it("parallel creates succeed; each purge is verified although the others drop their schemas meanwhile", async () => {
    const quotas = { dbConnections: 2, statementTimeoutMs: 5_000 };
    const slugs = ["par-a", "par-b", "par-c", "par-d"];
    await Promise.all([
      ...slugs.map((slug) => driver.create({ slug, mode: "schema", quotas })),
      driver.create({ slug: "par-pool", mode: "pool", quotas }),
    ]);

    const reports = await Promise.all(
      [...slugs, "par-pool"].map((slug) => driver.delete({ slug })),
    );
    expect(reports.map((r) => r.verified)).toEqual([true, true, true, true, true]);
    const { rows } = await db.current.pool.query(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_par%'",
    );
    expect(rows).toEqual([]);
  });
});
