/**
 * Retry and repair over real HTTP, a real PostgreSQL and the real engine: a tenant whose
 * deployment failed shows the failing resource and the engine's message; once the cause is
 * fixed, `tenancy retry` (POST /v1/operations/:id/retry) brings it to active; an offboarded
 * tenant is never revived.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeFailure, type ResourceFailure } from "../../control-plane/jobs/failure.ts";
import { tenantToken } from "../../control-plane/http/auth.ts";
import { runCli } from "../support/cli.ts";
import type { TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine } from "../support/engine.ts";
import {
  fileStackConfig,
  startEngineControlPlane,
  waitForOperation,
} from "../support/engineControlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

interface OperationView {
  id: string;
  kind: string;
  state: string;
  attempts: number;
  error: string | null;
  result?: { failure?: ResourceFailure };
}

describeWithEngine("retry and repair of failed operations", () => {
  let plane: TestControlPlane;
  /** Tenants whose stack gets a database URL naming a database that does not exist. */
  const broken = new Set<string>();

  beforeAll(async () => {
    const good = fileStackConfig(db.current);
    const bad = fileStackConfig(db.current, `${db.current.name}_no_such_database`);
    plane = await startEngineControlPlane(db.current, {
      runner: { configFor: (tenant) => (broken.has(tenant.slug) ? bad : good)(tenant) },
    });
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
  }, 120_000);

  const finished = (id: string, timeoutMs = 300_000) =>
    waitForOperation<OperationView>(plane, id, { timeoutMs, intervalMs: 400 });

  const tenant = async (slug: string) =>
    (await (await plane.request(`/v1/tenants/${slug}`)).json()) as {
      state: string;
      lastError: string | null;
      lastFailure: (ResourceFailure & { operationId: string }) | null;
    };

  async function signup(slug: string): Promise<OperationView> {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: slug, tier: "pro" },
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { operation: OperationView }).operation;
  }

  const retry = (id: string, token?: string) =>
    plane.request(`/v1/operations/${id}/retry`, {
      method: "POST",
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });

  it("shows the failing resource, retries through the CLI once fixed, and ends active", async () => {
    broken.add("fix-me");
    const failed = await finished((await signup("fix-me")).id);
    expect(failed.state).toBe("failed");
    const failure = failed.result?.failure;
    expect(failure?.resource).toBeTruthy();
    expect(failure?.type).toMatch(/:/);
    expect(failure?.urn).toContain(`::${failure?.resource}`);
    expect(failure?.message).toMatch(/does not exist/);
    expect(failed.error).toBe(describeFailure(failure!));
    // The tenant itself names the first failing resource and the engine's message.
    expect(await tenant("fix-me")).toEqual(
      expect.objectContaining({
        state: "failed",
        lastError: describeFailure(failure!),
        lastFailure: { ...failure, operationId: failed.id },
      }),
    );

    // Refused: a tenant's own token, an unknown operation, an operation that did not fail.
    expect((await retry(failed.id, tenantToken(plane.token, "fix-me"))).status).toBe(403);
    const unknown = await retry("00000000-0000-4000-8000-000000000000");
    expect([unknown.status, ((await unknown.json()) as { reason: string }).reason]).toEqual([
      404,
      "operation-not-found",
    ]);

    broken.delete("fix-me");
    const cli = await runCli(plane, ["retry", "fix-me"]);
    expect([cli.code, cli.stderr]).toEqual([0, ""]);
    expect(cli.stdout).toContain(`signup ${failed.id} failed: ${describeFailure(failure!)}`);
    const retryId = /retrying as signup ([0-9a-f-]{36})/.exec(cli.stdout)?.[1];
    expect(retryId).toBeDefined();

    // A second click while the retry is open: the same operation, nothing new.
    const again = await retry(failed.id);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(((await again.json()) as { operation: OperationView }).operation.id).toBe(retryId);

    const done = await finished(retryId!);
    expect([done.state, done.error, done.kind]).toEqual(["succeeded", null, "signup"]);
    expect(await tenant("fix-me")).toEqual(
      expect.objectContaining({ state: "active", lastError: null, lastFailure: null }),
    );
    const superseded = await retry(failed.id);
    expect([superseded.status, ((await superseded.json()) as { reason: string }).reason]).toEqual([
      409,
      "operation-superseded",
    ]);
    const notFailed = await retry(retryId!);
    expect([notFailed.status, ((await notFailed.json()) as { reason: string }).reason]).toEqual([
      409,
      "operation-not-failed",
    ]);
    const { operations } = (await (
      await plane.request("/v1/tenants/fix-me/operations")
    ).json()) as { operations: OperationView[] };
    expect(operations.map((o) => [o.id, o.state])).toEqual([
      [retryId, "succeeded"],
      [failed.id, "failed"],
    ]);
  }, 600_000);

  it("never revives an offboarded tenant", async () => {
    broken.add("gone");
    const failed = await finished((await signup("gone")).id);
    expect(failed.state).toBe("failed");
    const offboard = await plane.request("/v1/tenants/gone", { method: "DELETE" });
    expect(offboard.status).toBe(202);
    const { operation } = (await offboard.json()) as { operation: OperationView };
    expect((await finished(operation.id)).state).toBe("succeeded");
    expect((await tenant("gone")).state).toBe("deleted");
    broken.delete("gone");
    for (const id of [failed.id, operation.id]) {
      const refused = await retry(id);
      expect(refused.status).toBe(409);
    }
    expect((await tenant("gone")).state).toBe("deleted");
    const { rows } = await plane.pool.query(
      "SELECT 1 FROM control_plane.operations WHERE tenant_slug = 'gone' AND state IN ('queued', 'running')",
    );
    expect(rows).toEqual([]);
  }, 600_000);
});
