/**
 * The service's own engine runs go under the tenant isolation policy pack: the runner the
 * control plane is started with (lazyStackRunner with repositoryPolicyPacks, as `tenancy
 * serve` wires it) refuses a tenant stack that names another tenant's namespace. The signup
 * fails with the rule's message — in the operation's error and in the tenant's lastFailure —
 * and nothing is created. Real HTTP, real PostgreSQL, the real engine and the repository's
 * pack; the stack program is a stand-in project (fixtures/crossTenantProject).
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ResourceFailure } from "../../control-plane/jobs/failure.ts";
import { lazyStackRunner } from "../../control-plane/runner/lazyRunner.ts";
import { repositoryPolicyPacks } from "../../control-plane/runner/policyPack.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine, fileBackendEnv } from "../support/engine.ts";
import { fileStackConfig, waitForOperation } from "../support/engineControlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
const VIOLATION = "references tenant egret's resources from tenant wren";

interface OperationView {
  id: string;
  state: string;
  error: string | null;
}

describeWithEngine("policy pack on the service's engine runs", () => {
  let plane: TestControlPlane;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "tenancy-service-policies-"));
    const config = fileStackConfig(db.current);
    const runner = lazyStackRunner(
      {
        stateDir,
        projectDir: resolve("test", "engine", "fixtures", "crossTenantProject"),
        env: fileBackendEnv(stateDir),
      },
      // Tenant wren's stack names tenant egret's namespace.
      (tenant) => ({ ...config(tenant), "probe:foreignTenant": { value: "egret" } }),
      { policyPacks: repositoryPolicyPacks },
    );
    plane = await startTestControlPlane(db.current.name, { runner });
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
  }, 120_000);

  const finished = (id: string) => waitForOperation<OperationView>(plane, id, { intervalMs: 400 });

  it("fails a signup whose stack breaks a rule, with the rule's message in lastFailure", async () => {
    const signup = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "wren", name: "Wren", tier: "pro" },
    });
    expect(signup.status).toBe(202);
    const { operation } = (await signup.json()) as { operation: OperationView };
    const done = await finished(operation.id);
    expect(done.state).toBe("failed");
    expect(done.error).toContain(VIOLATION);

    const tenant = (await (await plane.request("/v1/tenants/wren")).json()) as {
      state: string;
      lastFailure: (ResourceFailure & { operationId: string }) | null;
    };
    expect(tenant.state).toBe("failed");
    expect(tenant.lastFailure).toMatchObject({
      operationId: operation.id,
      resource: "namespace-grant",
      type: "pulumi-nodejs:dynamic:Resource",
    });
    expect(tenant.lastFailure?.message).toContain("policy no-cross-tenant-references: ");
    expect(tenant.lastFailure?.message).toContain(VIOLATION);
  }, 600_000);
});
