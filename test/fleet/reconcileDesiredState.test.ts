/**
 * `reconcile` rolls out what `tenancy up` would, through the service, on the real engine (local
 * target): it compares each stack tenant's desired-state hash (the same functions as `up`),
 * starts the service's `update` operation for exactly the tenants whose stack is not at its
 * desired state, and the runner records the new hash when the update succeeds — so the next
 * reconcile starts nothing, and `tenancy up` skips the stacks the service deployed.
 *
 * The program and the catalog are a temporary copy of this repository (test/fleet/gitRepo.ts):
 * a component change and a tiers.yaml quota edit are made there. A missing record (a fresh
 * state directory, a stack deployed before records existed) proves nothing: the stack is
 * updated, and that update records it.
 */
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  loadCatalog,
  resolveCatalog,
  type Catalog,
  type ResolvedTenant,
} from "../../catalog/index.ts";
import { runUp } from "../../cli/upCommand.ts";
import { stackNameOf } from "../../contract/index.ts";
import { engineSettings, type EngineSettings } from "../../control-plane/runner/engine.ts";
import { stackTenants } from "../../control-plane/runner/previewTenants.ts";
import {
  localStackConfig,
  type LocalTargetSettings,
} from "../../control-plane/runner/stackConfig.ts";
import { TenantStackRunner } from "../../control-plane/runner/tenantStacks.ts";
import { reconcile, type ReconcileStep } from "../../control-plane/service/reconcile.ts";
import { DesiredStateStore } from "../../fleet/desiredState.ts";
import { desiredStateHasher } from "../../fleet/desiredStateHasher.ts";
import { OUTDATED_REASONS, serviceDesiredState } from "../../fleet/serviceDesiredState.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { describeWithEngine } from "../support/engine.ts";
import { superQuery, waitForOperation } from "../support/engineControlPlane.ts";
import { adminUrl, useTestDatabase, withDatabase } from "../support/postgres.ts";
import { createTestRepo, type TestRepo } from "./gitRepo.ts";

const db = useTestDatabase();

const CATALOG = "reconcile-catalog";
const TENANTS: Record<string, string> = {
  "rd-schema": "slug: rd-schema\nname: Schema\ntier: pro\n",
  "rd-dedicated":
    "slug: rd-dedicated\nname: Dedicated\ntier: pro\noverrides:\n  database: dedicated\n",
  "rd-free": "slug: rd-free\nname: Free\ntier: free\n",
};
const DATABASE = "components/database/tenantDatabase.ts";
const TIMEOUT_INPUT = "statementTimeoutMs: args.quotas.statementTimeoutMs,";

describeWithEngine("reconcile compares the desired-state hash (real engine)", () => {
  let repo: TestRepo;
  let plane: TestControlPlane;
  let engine: EngineSettings;
  let local: LocalTargetSettings;
  let catalog: Catalog;
  let check: ReturnType<typeof serviceDesiredState>["check"];

  beforeAll(async () => {
    repo = createTestRepo();
    await mkdir(join(repo.dir, CATALOG));
    await copyFile(join(repo.dir, "tenants", "tiers.yaml"), join(repo.dir, CATALOG, "tiers.yaml"));
    for (const [slug, text] of Object.entries(TENANTS)) repo.write(`${CATALOG}/${slug}.yaml`, text);
    catalog = await loadTestCatalog();
    const { name, rolePrefix } = db.current;
    const stateDir = join(repo.dir, ".tenancy", "state");
    engine = await engineSettings({
      stateDir,
      projectDir: repo.dir,
      env: {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${join(stateDir, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE: "test-passphrase",
      },
    });
    local = {
      adminUrl: withDatabase(adminUrl(), `${name}_shared`),
      rolePrefix,
      databasePrefix: `${name}_db`,
    };
    const desired = serviceDesiredState({ engine: async () => engine, local });
    const runner = desired.recording(
      new TenantStackRunner({ engine, configFor: localStackConfig(local), lockBackoffMs: 200 }),
    );
    plane = await startTestControlPlane(name, {
      runner,
      tiers: () => catalog.tiers,
      sweepSeconds: 1,
    });
    check = desired.check;
  }, 300_000);

  afterAll(async () => {
    await plane?.stop();
    if (engine) {
      const runner = new TenantStackRunner({ engine, configFor: localStackConfig(local) });
      for (const slug of ["rd-schema", "rd-dedicated"])
        await runner.destroy(slug).catch(() => undefined);
    }
    repo?.remove();
  }, 300_000);

  async function loadTestCatalog(): Promise<Catalog> {
    const loaded = await loadCatalog(join(repo.dir, CATALOG));
    if (!loaded.ok) throw new Error(`test catalog invalid: ${JSON.stringify(loaded.diagnostics)}`);
    return loaded.catalog;
  }

  async function operationCount(): Promise<number> {
    const { rows } = await plane.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM control_plane.operations",
    );
    return rows[0]!.n;
  }

  /** Reconciles, waits for every operation it started; returns slug → action (and details). */
  async function reconcileAndWait(): Promise<{
    actions: Record<string, string>;
    steps: ReconcileStep[];
  }> {
    const steps = await reconcile(plane.pool, plane.service, catalog, undefined, {
      desiredState: check,
    });
    for (const step of steps.filter((s) => s.operationId)) {
      const done = await waitForOperation<{ state: string; error: string | null }>(
        plane,
        step.operationId!,
        { timeoutMs: 480_000 },
      );
      if (done.state !== "succeeded") throw new Error(`${step.slug}: ${done.error ?? done.state}`);
    }
    return { actions: Object.fromEntries(steps.map((s) => [s.slug, s.action])), steps };
  }

  function stackTenantsOf(): ResolvedTenant[] {
    return stackTenants(resolveCatalog(catalog));
  }

  /** Each stack tenant's record compared with the hash `tenancy up` computes now. */
  async function recordStatuses(): Promise<Record<string, string>> {
    const tenants = stackTenantsOf();
    const hashOf = await desiredStateHasher({ engine, local }, tenants);
    const store = DesiredStateStore.forBackend(engine.backendUrl);
    const out: Record<string, string> = {};
    for (const t of tenants) out[t.slug] = await store.status(stackNameOf(t.slug), hashOf(t));
    return out;
  }

  async function role(slug: string): Promise<{ rolconnlimit: number; rolconfig: string[] }> {
    const [row] = await superQuery<{ rolconnlimit: number; rolconfig: string[] }>(
      `${db.current.name}_shared`,
      "SELECT rolconnlimit, rolconfig FROM pg_roles WHERE rolname = $1",
      [`${db.current.rolePrefix}_t_${slug.replaceAll("-", "_")}`],
    );
    if (!row) throw new Error(`no role for ${slug}`);
    return row;
  }

  const allUnchanged = {
    "rd-schema": "unchanged",
    "rd-dedicated": "unchanged",
    "rd-free": "unchanged",
  };

  it("after a reconcile that converges, a second one starts no operation, and `tenancy up` skips the stacks", async () => {
    const first = await reconcileAndWait();
    expect(first.actions).toEqual({
      "rd-schema": "signup",
      "rd-dedicated": "signup",
      "rd-free": "signup",
    });
    expect(await recordStatuses()).toEqual({ "rd-schema": "current", "rd-dedicated": "current" });
    const before = await operationCount();
    const second = await reconcileAndWait();
    expect(second.actions).toEqual(allUnchanged);
    expect(await operationCount()).toBe(before);
    // The records the service's runner wrote are the ones `tenancy up` reads: no engine.
    const deployed: string[] = [];
    const report = await runUp(
      stackTenantsOf(),
      { engine, local, controlPool: plane.pool },
      {
        waves: [100],
        parallel: 2,
        onBusy: "skip",
        busyTimeoutMs: 0,
        json: true,
        onDeploy: (slug) => deployed.push(slug),
      },
      { stdout: () => undefined, stderr: () => undefined },
    );
    expect(deployed).toEqual([]);
    expect(report.unchanged).toEqual(["rd-dedicated", "rd-schema"]);

    // A refresh that finds no drift rewrites the state but keeps the record current: the next
    // reconcile still starts nothing. One that finds drift leaves it stale (updated next).
    const refreshed = await plane.service.refresh("rd-schema");
    const done = await waitForOperation<{ state: string }>(plane, refreshed.operation.id, {
      timeoutMs: 300_000,
    });
    expect(done.state).toBe("succeeded");
    expect(await recordStatuses()).toEqual({ "rd-schema": "current", "rd-dedicated": "current" });
    await superQuery(
      `${db.current.name}_shared`,
      `ALTER ROLE "${db.current.rolePrefix}_t_rd_schema" CONNECTION LIMIT 2`,
    );
    const drifted = await plane.service.refresh("rd-schema");
    await waitForOperation(plane, drifted.operation.id, { timeoutMs: 300_000 });
    expect(await recordStatuses()).toEqual({ "rd-schema": "stale", "rd-dedicated": "current" });
    const repaired = await reconcileAndWait();
    expect(repaired.actions["rd-schema"]).toBe("update");
    expect((await role("rd-schema")).rolconnlimit).not.toBe(2);
    expect((await reconcileAndWait()).actions).toEqual(allUnchanged);
  }, 900_000);

  it("a component change updates exactly the tenants whose resources it alters, and records them", async () => {
    // Dedicated tenants' roles get one more millisecond of statement timeout: a program change
    // (no catalog file, no tiers.yaml) that alters rd-dedicated's resources and no other's.
    const code = repo.read(DATABASE);
    expect(code).toContain(TIMEOUT_INPUT);
    repo.write(
      DATABASE,
      code.replace(
        TIMEOUT_INPUT,
        'statementTimeoutMs: args.quotas.statementTimeoutMs + (args.mode === "dedicated" ? 1 : 0),',
      ),
    );
    expect(await recordStatuses()).toEqual({ "rd-schema": "current", "rd-dedicated": "different" });
    const before = await operationCount();
    const { actions, steps } = await reconcileAndWait();
    expect(actions).toEqual({ ...allUnchanged, "rd-dedicated": "update" });
    expect(steps.find((s) => s.slug === "rd-dedicated")?.detail).toBe(OUTDATED_REASONS.different);
    expect(await operationCount()).toBe(before + 1);
    const timeout = catalog.tiers.tiers.pro!.quotas!.statementTimeoutMs!;
    expect((await role("rd-dedicated")).rolconfig).toContain(`statement_timeout=${timeout + 1}ms`);
    expect((await role("rd-schema")).rolconfig).toContain(`statement_timeout=${timeout}ms`);
    expect(await recordStatuses()).toEqual({ "rd-schema": "current", "rd-dedicated": "current" });
    expect((await reconcileAndWait()).actions).toEqual(allUnchanged);
    expect(await operationCount()).toBe(before + 1);
  }, 900_000);

  it("a tiers.yaml quota edit in the catalog updates exactly that tier's stack tenants", async () => {
    const tiersFile = `${CATALOG}/tiers.yaml`;
    const text = repo.read(tiersFile);
    const edited = text.replace(/(\n  pro:[\s\S]*?dbConnections: )20\n/, "$115\n");
    expect(edited).not.toBe(text);
    repo.write(tiersFile, edited);
    catalog = await loadTestCatalog();
    const before = await operationCount();
    const { actions } = await reconcileAndWait();
    expect(actions).toEqual({
      "rd-schema": "update",
      "rd-dedicated": "update",
      "rd-free": "unchanged",
    });
    expect(await operationCount()).toBe(before + 2);
    for (const slug of ["rd-schema", "rd-dedicated"])
      expect((await role(slug)).rolconnlimit).toBe(15);
    expect(await recordStatuses()).toEqual({ "rd-schema": "current", "rd-dedicated": "current" });
    expect((await reconcileAndWait()).actions).toEqual(allUnchanged);
    expect(await operationCount()).toBe(before + 2);
  }, 900_000);

  it("with the records gone (a fresh state directory) it updates every stack tenant once, which records them", async () => {
    const records = join(engine.backendUrl.slice("file://".length), ".tenancy", "desired-state");
    expect((await readdir(records)).sort()).toEqual([
      "tenant-rd-dedicated.json",
      "tenant-rd-schema.json",
    ]);
    await rm(records, { recursive: true });
    expect(await recordStatuses()).toEqual({ "rd-schema": "absent", "rd-dedicated": "absent" });
    const before = await operationCount();
    const { actions, steps } = await reconcileAndWait();
    expect(actions).toEqual({
      "rd-schema": "update",
      "rd-dedicated": "update",
      "rd-free": "unchanged",
    });
    for (const slug of ["rd-schema", "rd-dedicated"])
      expect(steps.find((s) => s.slug === slug)?.detail).toBe(OUTDATED_REASONS.absent);
    expect(await recordStatuses()).toEqual({ "rd-schema": "current", "rd-dedicated": "current" });
    expect((await reconcileAndWait()).actions).toEqual(allUnchanged);
    expect(await operationCount()).toBe(before + 2);
  }, 900_000);
});
