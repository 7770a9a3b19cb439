/**
 * Refresh and drift over real HTTP, a real PostgreSQL and the real engine: a bridge tenant's
 * role loses a grant and gets another connection limit out of band; POST
 * /v1/tenants/:slug/refresh (and `tenancy refresh`) runs a refresh as an operation whose
 * drift report names exactly those two properties, served on the tenant; the next update
 * repairs them and a second refresh finds no drift.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { DriftReport } from "../../control-plane/runner/driftReport.ts";
import { runCli } from "../support/cli.ts";
import type { TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine } from "../support/engine.ts";
import { startEngineControlPlane, waitForOperation } from "../support/engineControlPlane.ts";
import { adminUrl, queryRows, useTestDatabase, withDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
/** The pro tier's statement timeout (tenants/tiers.yaml). */
const STATEMENT_TIMEOUT_MS = 15000;

interface OperationView {
  id: string;
  kind: string;
  state: string;
  error: string | null;
  result?: { drift?: DriftReport };
}

interface TenantDetail {
  state: string;
  routing: { database: { role: string; schema: string; database: string } } | null;
  drift: { operationId: string; report: DriftReport } | null;
}

describeWithEngine("refresh of a tenant stack with a drift report", () => {
  let plane: TestControlPlane;

  beforeAll(async () => {
    plane = await startEngineControlPlane(db.current);
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
  }, 120_000);

  const finished = (id: string) => waitForOperation<OperationView>(plane, id, { intervalMs: 400 });

  const tenant = async (slug: string) =>
    (await (await plane.request(`/v1/tenants/${slug}`)).json()) as TenantDetail;

  async function refresh(slug: string): Promise<OperationView> {
    const response = await plane.request(`/v1/tenants/${slug}/refresh`, { method: "POST" });
    expect(response.status).toBe(202);
    const { operation } = (await response.json()) as { operation: OperationView };
    expect(operation.kind).toBe("refresh");
    return finished(operation.id);
  }

  async function outOfBand(sql: string): Promise<void> {
    await queryRows(plane.sharedUrl, sql);
  }

  it("names exactly what was changed out of band, and an update repairs it", async () => {
    const signup = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "drifty", name: "Drifty", tier: "pro", quotas: { dbConnections: 12 } },
    });
    expect(signup.status).toBe(202);
    const { operation } = (await signup.json()) as { operation: OperationView };
    expect((await finished(operation.id)).state).toBe("succeeded");
    const deployed = await tenant("drifty");
    expect(deployed.drift).toBeNull();
    const { role, schema } = deployed.routing!.database;

    // Nothing changed yet: the refresh reads every resource and finds no difference.
    const clean = await refresh("drifty");
    expect(clean.state).toBe("succeeded");
    expect(clean.result?.drift?.drifted).toEqual([]);
    // On the local target without a cluster, the database objects are its one resource.
    expect(clean.result?.drift?.resources).toBe(1);

    await outOfBand(`REVOKE USAGE ON SCHEMA "${schema}" FROM "${role}"`);
    await outOfBand(`ALTER ROLE "${role}" CONNECTION LIMIT 3`);

    const cli = await runCli(plane, ["refresh", "drifty", "--poll-ms", "300"]);
    expect([cli.code, cli.stderr]).toEqual([0, ""]);
    const shown = await tenant("drifty");
    expect(shown.state).toBe("active"); // a refresh never changes the tenant's state
    const report = shown.drift!.report;
    expect(report.drifted).toEqual([
      {
        urn: "urn:pulumi:tenant-drifty::tenancy::tenancy:tenant:Tenant$tenancy:database:TenantDatabase$pulumi-nodejs:dynamic/tenancy:TenantDatabase::drifty-database-objects",
        type: "pulumi-nodejs:dynamic/tenancy:TenantDatabase",
        name: "drifty-database-objects",
        drift: "changed",
        properties: [
          { path: "access.schemaUsage", state: true, live: false },
          { path: "quotas.dbConnections", state: 12, live: 3 },
        ],
      },
    ]);
    expect(cli.stdout).toBe(
      "drifty: 1 of 1 resources drifted\n" +
        '  pulumi-nodejs:dynamic/tenancy:TenantDatabase "drifty-database-objects" access.schemaUsage: true → false\n' +
        '  pulumi-nodejs:dynamic/tenancy:TenantDatabase "drifty-database-objects" quotas.dbConnections: 12 → 3\n',
    );
    const { operations } = (await (
      await plane.request("/v1/tenants/drifty/operations")
    ).json()) as { operations: OperationView[] };
    expect(operations[0]!.id).toBe(shown.drift!.operationId);
    expect(operations[0]!.result?.drift).toEqual(report);

    // The next update converges the placement again; a refresh then finds nothing.
    const patch = await plane.request("/v1/tenants/drifty", {
      method: "PATCH",
      json: { quotas: { dbConnections: 12 } },
    });
    expect(patch.status).toBe(202);
    const update = ((await patch.json()) as { operation: OperationView }).operation;
    expect((await finished(update.id)).state).toBe("succeeded");
    const again = await refresh("drifty");
    expect(again.result?.drift?.drifted).toEqual([]);
    expect((await tenant("drifty")).drift!.operationId).toBe(again.id);
  }, 900_000);

  it("reports a dedicated tenant's dropped role as null quotas on every refresh until an update creates it again", async () => {
    const signup = await plane.request("/v1/tenants", {
      method: "POST",
      json: {
        slug: "silo-gone",
        name: "Silo",
        tier: "pro",
        overrides: { database: "dedicated" },
        quotas: { dbConnections: 15 },
      },
    });
    expect(signup.status).toBe(202);
    const { operation } = (await signup.json()) as { operation: OperationView };
    expect((await finished(operation.id)).state).toBe("succeeded");
    const { role, database } = (await tenant("silo-gone")).routing!.database;
    expect((await refresh("silo-gone")).result?.drift?.drifted).toEqual([]);

    // Dropped by hand: its privileges first, in its own database and in the shared one.
    for (const url of [withDatabase(adminUrl(), database), plane.sharedUrl]) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP OWNED BY "${role}"`);
      await client.end();
    }
    await outOfBand(`DROP ROLE "${role}"`);

    const gone = [
      { path: "access.connect", state: true, live: false },
      { path: "access.schemaUsage", state: true, live: false },
      { path: "quotas.dbConnections", state: 15, live: null },
      { path: "quotas.statementTimeoutMs", state: STATEMENT_TIMEOUT_MS, live: null },
    ];
    const first = await refresh("silo-gone");
    expect(first.state).toBe("succeeded");
    expect(first.result?.drift?.drifted.map((d) => [d.name, d.drift, d.properties])).toEqual([
      ["silo-gone-database-objects", "changed", gone],
    ]);
    // The state now records what was read; the declaration still differs, so it is still drift.
    const second = await refresh("silo-gone");
    expect(second.result?.drift?.drifted.map((d) => d.properties)).toEqual([
      gone.filter((p) => p.path.startsWith("quotas.")),
    ]);

    const patch = await plane.request("/v1/tenants/silo-gone", {
      method: "PATCH",
      json: { quotas: { dbConnections: 15 } },
    });
    expect(patch.status).toBe(202);
    const update = ((await patch.json()) as { operation: OperationView }).operation;
    expect((await finished(update.id)).state).toBe("succeeded");
    expect((await refresh("silo-gone")).result?.drift?.drifted).toEqual([]);
  }, 900_000);

  it("refuses a pooled tenant, an unknown one and a tenant token", async () => {
    const pooled = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "pooly", name: "Pooly", tier: "free" },
    });
    expect(pooled.status).toBe(202);
    const nothing = await plane.request("/v1/tenants/pooly/refresh", { method: "POST" });
    expect([nothing.status, ((await nothing.json()) as { reason: string }).reason]).toEqual([
      409,
      "nothing-to-refresh",
    ]);
    const unknown = await plane.request("/v1/tenants/no-such/refresh", { method: "POST" });
    expect([unknown.status, ((await unknown.json()) as { reason: string }).reason]).toEqual([
      404,
      "tenant-not-found",
    ]);
    const { tenantToken } = await import("../../control-plane/http/auth.ts");
    const forbidden = await plane.request("/v1/tenants/drifty/refresh", {
      method: "POST",
      headers: { authorization: `Bearer ${tenantToken(plane.token, "drifty")}` },
    });
    expect(forbidden.status).toBe(403);
  }, 120_000);
});
