/**
 * Plan equals reality: the offline plan (`tenancy plan`'s planner, Pulumi's mock runtime)
 * of a bridge (schema) tenant and of a dedicated-database tenant names exactly the resources
 * (type, name, parent) the real engine records in the stack's state, and the schema, role
 * and database the engine's run created — in its routing output and in the PostgreSQL
 * catalog; and the URNs the planner forms (the URN snapshots' rule) are the state's. The
 * planner runs with the deployment's naming (role and database prefixes), as
 * the service configures its stacks.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ResolvedTenant } from "../../catalog/index.ts";
import type { RoutingRecord } from "../../contract/index.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner, type StateResource } from "../../control-plane/runner/tenantStacks.ts";
import { compareDeclared, type DeclaredResource } from "../../stacks/planning/mockRuntime.ts";
import { plannedProvisionerFor } from "../../stacks/planning/plannedProvisioner.ts";
import { runTenantUnderMocks } from "../../stacks/planning/planTenant.ts";
import { exampleTenant } from "../support/controlPlane.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";
import { bootstrapTestDatabase, useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

/** `type::name` of a URN (the last segment after `::`). */
function nameOfUrn(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The state's resources as the planner lists them: no stack, no providers, parent by name. */
function asDeclared(state: readonly StateResource[]): (DeclaredResource & { urn: string })[] {
  const stack = state.find((r) => r.type === "pulumi:pulumi:Stack");
  expect(stack).toBeDefined();
  return state
    .filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
    .map((r) => ({
      urn: r.urn,
      type: r.type,
      name: nameOfUrn(r.urn),
      parent: r.parent === undefined || r.parent === stack!.urn ? null : nameOfUrn(r.parent),
    }))
    .sort(compareDeclared);
}

describeWithEngine("plan equals reality (real engine, local target)", () => {
  let runner: TenantStackRunner;
  const tenants: ResolvedTenant[] = [];
  const naming = { rolePrefix: "", databasePrefix: "" };

  beforeAll(async () => {
    const { url, rolePrefix, name } = db.current;
    naming.rolePrefix = rolePrefix;
    naming.databasePrefix = `${name}_db`;
    await bootstrapTestDatabase(db.current);
    tenants.push(
      await exampleTenant({ slug: "plan-bridge", name: "Bridge", tier: "pro" }),
      await exampleTenant({
        slug: "plan-silo",
        name: "Silo",
        tier: "pro",
        overrides: { database: "dedicated" },
      }),
    );
    runner = new TenantStackRunner({
      engine: await testEngine(),
      configFor: localStackConfig({ adminUrl: url, ...naming }),
      lockBackoffMs: 200,
    });
  }, 300_000);

  afterAll(async () => {
    for (const tenant of tenants) await runner?.destroy(tenant.slug).catch(() => undefined);
  }, 300_000);

  it("the planned resources, names and routing are what the engine created", async () => {
    expect(tenants.map((t) => t.layers.database)).toEqual(["schema", "dedicated"]);
    const deployed = await Promise.all(tenants.map((tenant) => runner.up(tenant)));

    for (const [index, tenant] of tenants.entries()) {
      const plan = await runTenantUnderMocks(tenant, "local", {
        provisioner: plannedProvisionerFor(naming),
        urns: true,
      });
      const planned = plan.resources
        .map(({ urn, type, name, parent }) => ({ urn, type, name, parent }))
        .sort(compareDeclared);
      const real = asDeclared(await runner.stateResources(tenant.slug));
      // Resources: the same types, names, parents and URNs (the URN snapshots of
      // test/components/urns.test.ts are formed the same way).
      expect(real).toEqual(planned);
      expect(real.map((r) => r.type)).toContain("pulumi-nodejs:dynamic/tenancy:TenantDatabase");

      // Routing: the same record, but for what only the real server and registry know.
      const plannedRouting = plan.outputs["routing"] as RoutingRecord;
      const routing = deployed[index]!.routing;
      const { rows } = await db.current.pool.query<{
        id: string;
        schema_name: string;
        role_name: string;
        database_name: string;
      }>("SELECT id, schema_name, role_name, database_name FROM tenancy.tenants WHERE slug = $1", [
        tenant.slug,
      ]);
      const registered = rows[0]!;
      expect(routing).toEqual({
        ...plannedRouting,
        database: {
          ...plannedRouting.database,
          tenantId: registered.id,
          host: routing.database.host,
          port: routing.database.port,
          // Planned against a placeholder server: a schema tenant lives in its database.
          ...(tenant.layers.database === "schema" ? { database: registered.database_name } : {}),
        },
      });
      expect(routing.database).toMatchObject({
        schema: registered.schema_name,
        role: registered.role_name,
        database: registered.database_name,
      });
    }

    // The PostgreSQL catalog holds exactly the planned names.
    const [bridge, silo] = deployed.map((d) => d.routing.database);
    expect(bridge).toMatchObject({
      schema: "tenant_plan_bridge",
      role: `${naming.rolePrefix}_t_plan_bridge`,
    });
    expect(silo).toMatchObject({
      schema: "app",
      role: `${naming.rolePrefix}_t_plan_silo`,
      database: `${naming.databasePrefix}_plan_silo`,
    });
    const query = async (sql: string, params: unknown[]) =>
      (await db.current.pool.query(sql, params)).rows.length;
    expect(await query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [bridge!.schema])).toBe(1);
    for (const role of [bridge!.role, silo!.role]) {
      expect(await query("SELECT 1 FROM pg_roles WHERE rolname = $1 AND rolcanlogin", [role])).toBe(
        1,
      );
    }
    expect(await query("SELECT 1 FROM pg_database WHERE datname = $1", [silo!.database])).toBe(1);
  }, 600_000);
});
