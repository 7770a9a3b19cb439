/**
 * Control-plane store: tenants, operations, events, idempotency keys, deletion reports.
 * Every function takes a `Queryable` so callers compose them inside one transaction.
 */
import type pg from "pg";
import type { TenantFile } from "../../catalog/index.ts";
import type { ResolvedTenant, RoutingRecord } from "../../contract/index.ts";
import type { DriftReport } from "../runner/driftReport.ts";
import type {
  OperationEvent,
  OperationKind,
  OperationRecord,
  OperationState,
  TenantRecord,
  TenantState,
} from "./records.ts";
import { allowedFromStates, TenantTransitionRefused } from "./transitions.ts";

export type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

const TENANT_COLUMNS = `slug, name, tier, source, spec, resolved, state, routing, last_error AS "lastError",
  created_at AS "createdAt", updated_at AS "updatedAt"`;
const OPERATION_COLUMNS = `id, tenant_slug AS "tenantSlug", kind, tier, state, attempts, input, result, error,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

export async function insertTenant(
  db: Queryable,
  tenant: {
    spec: TenantFile;
    resolved: ResolvedTenant;
    source: "catalog" | "api";
    state: TenantState;
  },
): Promise<TenantRecord | undefined> {
  const { rows } = await db.query<TenantRecord>(
    `INSERT INTO control_plane.tenants (slug, name, tier, source, spec, resolved, state)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (slug) DO NOTHING
     RETURNING ${TENANT_COLUMNS}`,
    [
      tenant.spec.slug,
      tenant.spec.name,
      tenant.spec.tier,
      tenant.source,
      tenant.spec,
      tenant.resolved,
      tenant.state,
    ],
  );
  return rows[0];
}

export async function getTenant(
  db: Queryable,
  slug: string,
  options: { forUpdate?: boolean } = {},
) {
  const { rows } = await db.query<TenantRecord>(
    `SELECT ${TENANT_COLUMNS} FROM control_plane.tenants WHERE slug = $1${options.forUpdate ? " FOR UPDATE" : ""}`,
    [slug],
  );
  return rows[0];
}

export async function listTenants(db: Queryable, options: { includeDeleted?: boolean } = {}) {
  const { rows } = await db.query<TenantRecord>(
    `SELECT ${TENANT_COLUMNS} FROM control_plane.tenants
     ${options.includeDeleted ? "" : "WHERE state <> 'deleted'"} ORDER BY slug`,
  );
  return rows;
}

/** One page of live tenants by slug, after `after` (keyset pagination: stable under inserts). */
export async function listTenantPage(db: Queryable, options: { after?: string; limit: number }) {
  const { rows } = await db.query<TenantRecord>(
    `SELECT ${TENANT_COLUMNS} FROM control_plane.tenants
      WHERE state <> 'deleted' AND ($1::text IS NULL OR slug > $1) ORDER BY slug LIMIT $2`,
    [options.after ?? null, options.limit],
  );
  return rows;
}

/**
 * Updates a tenant. Enforces the state machine (transitions.ts): the row is updated only when
 * its current state allows the change — checked in the UPDATE itself, so a concurrent
 * transition (e.g. an offboarding committed meanwhile) is seen. Throws
 * {@link TenantTransitionRefused} otherwise.
 */
export async function updateTenant(
  db: Queryable,
  slug: string,
  changes: {
    state?: TenantState;
    spec?: TenantFile;
    resolved?: ResolvedTenant;
    routing?: RoutingRecord | null;
    lastError?: string | null;
  },
): Promise<void> {
  const from = allowedFromStates(
    changes.state,
    changes.spec !== undefined || changes.resolved !== undefined,
  );
  const result = await db.query(
    `UPDATE control_plane.tenants SET
       state = COALESCE($2, state),
       spec = COALESCE($3, spec),
       resolved = COALESCE($4, resolved),
       tier = COALESCE($4::jsonb ->> 'tier', tier),
       name = COALESCE($4::jsonb ->> 'name', name),
       routing = CASE WHEN $5::boolean THEN $6::jsonb ELSE routing END,
       last_error = CASE WHEN $7::boolean THEN $8 ELSE last_error END,
       updated_at = now()
     WHERE slug = $1 AND state = ANY ($9::text[])`,
    [
      slug,
      changes.state ?? null,
      changes.spec ?? null,
      changes.resolved ?? null,
      "routing" in changes,
      changes.routing === undefined ? null : JSON.stringify(changes.routing),
      "lastError" in changes,
      changes.lastError ?? null,
      from,
    ],
  );
  if (result.rowCount === 1) return;
  const current = await getTenant(db, slug);
  if (!current) throw new Error(`tenant ${slug} does not exist`);
  throw new TenantTransitionRefused(slug, current.state, changes.state);
}

/**
 * Cancels the tenant's queued operations other than offboarding (they will never run);
 * returns their ids. Running ones finish and find their transition refused.
 */
export async function cancelQueuedChanges(
  db: Queryable,
  slug: string,
  reason: string,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE control_plane.operations SET state = 'cancelled', error = $2, finished_at = now()
      WHERE tenant_slug = $1 AND state IN ('queued', 'waiting-for-engine') AND kind <> 'offboard'
      RETURNING id`,
    [slug, reason],
  );
  for (const { id } of rows) await appendEvent(db, id, "cancelled", { reason });
  return rows.map((r) => r.id);
}

export async function insertOperation(
  db: Queryable,
  operation: { tenantSlug: string; kind: OperationKind; tier: string; input?: unknown },
): Promise<OperationRecord> {
  const { rows } = await db.query<OperationRecord>(
    `INSERT INTO control_plane.operations (tenant_slug, kind, tier, state, input)
     VALUES ($1, $2, $3, 'queued', $4) RETURNING ${OPERATION_COLUMNS}`,
    [operation.tenantSlug, operation.kind, operation.tier, JSON.stringify(operation.input ?? {})],
  );
  return rows[0]!;
}

export async function getOperation(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const { rows } = await db.query<OperationRecord>(
    `SELECT ${OPERATION_COLUMNS} FROM control_plane.operations WHERE id = $1${options.forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0];
}

/** Operations of a tenant not yet finished, oldest first. */
export async function openOperations(db: Queryable, slug: string) {
  const { rows } = await db.query<OperationRecord>(
    `SELECT ${OPERATION_COLUMNS} FROM control_plane.operations
     WHERE tenant_slug = $1 AND state IN ('queued', 'waiting-for-engine', 'running')
     ORDER BY created_at`,
    [slug],
  );
  return rows;
}

/** A tenant's operations, newest first. */
export async function tenantOperations(db: Queryable, slug: string, limit = 50) {
  const { rows } = await db.query<OperationRecord>(
    `SELECT ${OPERATION_COLUMNS} FROM control_plane.operations
     WHERE tenant_slug = $1 ORDER BY created_at DESC, id LIMIT $2`,
    [slug, limit],
  );
  return rows;
}

export async function setOperationState(
  db: Queryable,
  id: string,
  state: OperationState,
  details: { result?: unknown; error?: string | null } = {},
): Promise<void> {
  await db.query(
    `UPDATE control_plane.operations SET
       state = $2,
       attempts = attempts + CASE WHEN $2 = 'running' THEN 1 ELSE 0 END,
       started_at = CASE WHEN $2 = 'running' THEN COALESCE(started_at, now()) ELSE started_at END,
       finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() ELSE finished_at END,
       result = COALESCE($3::jsonb, result),
       error = $4
     WHERE id = $1`,
    [
      id,
      state,
      details.result === undefined ? null : JSON.stringify(details.result),
      details.error ?? null,
    ],
  );
}

export async function appendEvent(
  db: Queryable,
  operationId: string,
  type: string,
  data: unknown,
): Promise<void> {
  await db.query(
    `INSERT INTO control_plane.operation_events (operation_id, type, data) VALUES ($1, $2, $3)`,
    [operationId, type, JSON.stringify(data)],
  );
}

/** Whether the operation's stream has an event of `type`. */
export async function hasEvent(db: Queryable, operationId: string, type: string): Promise<boolean> {
  const { rows } = await db.query(
    "SELECT 1 FROM control_plane.operation_events WHERE operation_id = $1 AND type = $2 LIMIT 1",
    [operationId, type],
  );
  return rows.length > 0;
}

export async function eventsAfter(
  db: Queryable,
  operationId: string,
  afterId: number,
  limit = 500,
) {
  const { rows } = await db.query<OperationEvent>(
    `SELECT id::int AS id, operation_id AS "operationId", at, type, data
     FROM control_plane.operation_events WHERE operation_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
    [operationId, afterId, limit],
  );
  return rows;
}

export async function saveDeletionReport(
  db: Queryable,
  operationId: string,
  slug: string,
  report: unknown,
) {
  await db.query(
    `INSERT INTO control_plane.deletion_reports (operation_id, tenant_slug, report) VALUES ($1, $2, $3)
     ON CONFLICT (operation_id) DO UPDATE SET report = EXCLUDED.report`,
    [operationId, slug, JSON.stringify(report)],
  );
}

export async function latestDeletionReport(db: Queryable, slug: string) {
  const { rows } = await db.query<{ report: unknown; operationId: string; createdAt: string }>(
    `SELECT report, operation_id AS "operationId", created_at AS "createdAt" FROM control_plane.deletion_reports
     WHERE tenant_slug = $1 ORDER BY created_at DESC LIMIT 1`,
    [slug],
  );
  return rows[0];
}

/** The drift report of the tenant's latest successful refresh, if any. */
export async function latestDriftReport(db: Queryable, slug: string) {
  const { rows } = await db.query<{
    operationId: string;
    finishedAt: string;
    report: DriftReport | null;
  }>(
    `SELECT id AS "operationId", finished_at AS "finishedAt", result -> 'drift' AS report
       FROM control_plane.operations
      WHERE tenant_slug = $1 AND kind = 'refresh' AND state = 'succeeded'
      ORDER BY created_at DESC LIMIT 1`,
    [slug],
  );
  return rows[0];
}

/**
 * The first failing resource of the tenant's latest failed operation that changes the tenant
 * (a failed refresh changes nothing), when the engine named one.
 */
export async function latestResourceFailure(db: Queryable, slug: string) {
  const { rows } = await db.query<{ operationId: string; failure: unknown }>(
    `SELECT id AS "operationId", result -> 'failure' AS failure
       FROM control_plane.operations
      WHERE tenant_slug = $1 AND kind <> 'refresh' AND state = 'failed'
      ORDER BY created_at DESC LIMIT 1`,
    [slug],
  );
  return rows[0];
}

/** Claims an idempotency key; returns the stored response when the key was used before. */
export async function claimIdempotencyKey(
  db: Queryable,
  key: string,
  requestHash: string,
): Promise<
  { claimed: true } | { claimed: false; requestHash: string; status: number; response: unknown }
> {
  const inserted = await db.query(
    `INSERT INTO control_plane.idempotency_keys (key, request_hash, status, response) VALUES ($1, $2, 0, 'null')
     ON CONFLICT (key) DO NOTHING RETURNING key`,
    [key, requestHash],
  );
  if (inserted.rowCount === 1) return { claimed: true };
  const { rows } = await db.query<{ requestHash: string; status: number; response: unknown }>(
    `SELECT request_hash AS "requestHash", status, response FROM control_plane.idempotency_keys WHERE key = $1`,
    [key],
  );
  const row = rows[0]!;
  return { claimed: false, ...row };
}

export async function completeIdempotencyKey(
  db: Queryable,
  key: string,
  status: number,
  response: unknown,
) {
  await db.query(
    `UPDATE control_plane.idempotency_keys SET status = $2, response = $3 WHERE key = $1`,
    [key, status, JSON.stringify(response)],
  );
}
