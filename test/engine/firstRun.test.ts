/**
 * A first run converges without help: the service starts with no Pulumi engine anywhere it
 * looks; operations that need it wait (no attempt used) while a build is under way and run
 * when the engine appears; with no build under way they fail with a clear, retryable reason.
 */
import { mkdir, readdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ENGINE_MISSING_REASON, lazyStackRunner } from "../../control-plane/runner/lazyRunner.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine, engineMissingSettings, engineRoot } from "../support/engine.ts";
import { fileStackConfig, waitForOperation } from "../support/engineControlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

interface OperationView {
  id: string;
  state: string;
  attempts: number;
  error: string | null;
}

describeWithEngine("first run: operations wait for the engine build", () => {
  let plane: TestControlPlane;
  let building = false;
  /** Empty until the test "finishes the build" by linking the real engine into bin/. */
  let lateRoot: string;

  beforeAll(async () => {
    // No engine on PATH, none in the build cache: only lateRoot, once it has bin/.
    const { root, stateDir, env } = await engineMissingSettings("late");
    lateRoot = root;
    const runner = lazyStackRunner({ stateDir, env }, fileStackConfig(db.current), {
      buildInProgress: () => building,
    });
    plane = await startTestControlPlane(db.current.name, { runner });
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
  }, 120_000);

  const operation = async (id: string) =>
    (await (await plane.request(`/v1/operations/${id}`)).json()) as OperationView;

  const until = (id: string, done: (op: OperationView) => boolean, timeoutMs = 300_000) =>
    waitForOperation<OperationView>(plane, id, { timeoutMs, until: done });

  async function signup(body: object): Promise<OperationView> {
    const response = await plane.request("/v1/tenants", { method: "POST", json: body });
    expect(response.status).toBe(202);
    return ((await response.json()) as { operation: OperationView }).operation;
  }

  const tenantState = async (slug: string) =>
    ((await (await plane.request(`/v1/tenants/${slug}`)).json()) as { state: string }).state;

  it("fails clearly (and retryably) when the engine is missing and no build runs", async () => {
    const op = await signup({ slug: "late-missing", name: "Missing", tier: "pro" });
    const failed = await until(op.id, (o) => o.state === "failed", 60_000);
    expect(failed.error).toBe(ENGINE_MISSING_REASON);
    expect(failed.attempts).toBe(1);
    expect(await tenantState("late-missing")).toBe("failed");
  }, 90_000);

  it("waits while the engine is built, then every tenant becomes active without a restart", async () => {
    building = true;
    const free = await signup({ slug: "late-free", name: "Free", tier: "free" });
    const bridges = [
      await signup({ slug: "late-bridge-a", name: "A", tier: "pro" }),
      await signup({ slug: "late-bridge-b", name: "B", tier: "pro" }),
    ];
    expect((await operation(free.id)).state).toBe("succeeded"); // pooled: no engine needed
    for (const op of bridges) {
      await until(op.id, (o) => o.state === "waiting-for-engine", 30_000);
    }
    // Several looks for the engine later: still waiting, no attempt used.
    await new Promise((r) => setTimeout(r, 7_000));
    for (const op of bridges) {
      expect(await operation(op.id)).toMatchObject({ state: "waiting-for-engine", attempts: 0 });
    }

    // The build finishes: the engine appears where the service looks.
    await mkdir(join(lateRoot, "bin"));
    for (const file of await readdir(join(engineRoot!, "bin"))) {
      await symlink(join(engineRoot!, "bin", file), join(lateRoot, "bin", file));
    }
    building = false;
    for (const op of bridges) {
      const done = await until(op.id, (o) => o.state === "succeeded" || o.state === "failed");
      expect([done.state, done.error, done.attempts]).toEqual(["succeeded", null, 1]);
    }
    for (const slug of ["late-free", "late-bridge-a", "late-bridge-b"]) {
      expect(await tenantState(slug)).toBe("active");
    }
    const { rows } = await plane.pool.query<{ type: string }>(
      "SELECT type FROM control_plane.operation_events WHERE operation_id = $1 ORDER BY id",
      [bridges[0]!.id],
    );
    const types = rows.map((r) => r.type);
    expect(types.filter((t) => t === "waiting-for-engine")).toHaveLength(1);
    expect(types[0]).toBe("waiting-for-engine");
    expect(types.filter((t) => t === "started")).toHaveLength(1);
    expect(types.at(-1)).toBe("succeeded");
  }, 600_000);
});
