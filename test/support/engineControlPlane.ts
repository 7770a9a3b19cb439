/**
 * The control plane on the real Pulumi engine, for service tests. `startEngineControlPlane`
 * starts a test control plane whose tenant stacks provision on the file's own databases (the
 * shared database `<name>_shared`, roles `<rolePrefix>_*`, dedicated databases `<name>_db_*`),
 * so all of it is dropped with the file's database. With it come the helpers such tests share:
 * waiting for an operation to end and one-shot queries on the test server.
 */
import type pg from "pg";
import type { ControlPlaneOptions } from "../../control-plane/controlPlane.ts";
import type { EngineSettings } from "../../control-plane/runner/engine.ts";
import { localStackConfig } from "../../control-plane/runner/stackConfig.ts";
import {
  TenantStackRunner,
  type TenantStackRunnerOptions,
} from "../../control-plane/runner/tenantStacks.ts";
import { startTestControlPlane, type TestControlPlane } from "./controlPlane.ts";
import { testEngine } from "./engine.ts";
import { adminUrl, queryRows, withDatabase, type TestDatabase } from "./postgres.ts";

type FileDatabase = Pick<TestDatabase, "name" | "rolePrefix">;

/**
 * Stack config of the local target on the file's databases; `database` is the one the stacks
 * administer (the plane's shared database unless a test wants another, e.g. a missing one).
 */
export function fileStackConfig(
  db: FileDatabase,
  database = `${db.name}_shared`,
): TenantStackRunnerOptions["configFor"] {
  return localStackConfig({
    adminUrl: withDatabase(adminUrl(), database),
    rolePrefix: db.rolePrefix,
    databasePrefix: `${db.name}_db`,
  });
}

export interface EngineControlPlaneOptions {
  /** @default a fresh `testEngine()` */
  readonly engine?: EngineSettings;
  /** Runner options beside the engine (`configFor` defaults to `fileStackConfig`). */
  readonly runner?: Partial<Omit<TenantStackRunnerOptions, "engine">>;
  readonly plane?: Partial<ControlPlaneOptions>;
}

export async function startEngineControlPlane(
  db: FileDatabase,
  options: EngineControlPlaneOptions = {},
): Promise<TestControlPlane> {
  const runner = new TenantStackRunner({
    engine: options.engine ?? (await testEngine()),
    configFor: fileStackConfig(db),
    lockBackoffMs: 200,
    ...options.runner,
  });
  return startTestControlPlane(db.name, { runner, ...options.plane });
}

export interface OperationState {
  readonly state: string;
}

const ENDED = ["succeeded", "failed", "cancelled"];

/**
 * Polls `GET /v1/operations/:id` until the operation has ended (or `until` holds); throws
 * naming its state after `timeoutMs`.
 */
export async function waitForOperation<T extends OperationState>(
  plane: Pick<TestControlPlane, "request">,
  id: string,
  {
    timeoutMs = 300_000,
    intervalMs = 300,
    until = (op: T) => ENDED.includes(op.state),
  }: { timeoutMs?: number; intervalMs?: number; until?: (op: T) => boolean } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = (await (await plane.request(`/v1/operations/${id}`)).json()) as T;
    if (until(op)) return op;
    if (Date.now() > deadline) throw new Error(`operation ${id} still ${op.state}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** One query as the superuser on `database` of the test server. */
export function superQuery<T extends pg.QueryResultRow>(
  database: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return queryRows<T>(withDatabase(adminUrl(), database), sql, params);
}
