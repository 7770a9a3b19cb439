/**
 * `withTenant`: the only way application code should touch tenant data.
 *
 * ```ts
 * const orders = await withTenant(pool, tenantId, async (client) => {
 *   const { rows } = await client.query("SELECT * FROM orders WHERE status = $1", ["open"]);
 *   return rows; // only this tenant's rows: RLS adds the filter
 * });
 * ```
 *
 * It checks a connection out, opens a transaction, sets `app.tenant_id` with
 * `set_config('app.tenant_id', $1, true)` (transaction-local, like SET LOCAL), runs `fn`,
 * then COMMITs (or ROLLBACKs when `fn` throws) and releases the connection. In the same round
 * trip as the COMMIT/ROLLBACK it also clears any session-level value `fn` may have set, so
 * nothing survives to the next user of the connection — also under PgBouncer transaction
 * pooling, where the next user may be another application instance.
 *
 * With `signingKey` (a database bootstrapped with `signedContext: true`), the same statement
 * also sets `app.tenant_sig`, an HMAC of the tenant id and an expiry (db/contextSigning.ts)
 * that the database's policy checks with a key the application role cannot read.
 */
import type pg from "pg";
import {
  signTenantContext,
  TENANT_SIGNATURE_SETTING,
  type ContextSigningKey,
} from "./contextSigning.ts";
import { TENANT_CONTEXT_SETTING } from "./contextSql.ts";
import { recordQueries, type UsageRecorder } from "./usage/usageRecorder.ts";
import { TENANT_APPLICATION_NAME_PREFIX } from "./usage/usageSql.ts";

export interface WithTenantOptions {
  /**
   * Statement timeout for this transaction (`SET LOCAL statement_timeout`), e.g. the pooled
   * tenant's quota. @default the role's setting
   */
  readonly statementTimeoutMs?: number;
  /**
   * Records what `fn` runs for this tenant (statements, their time, rows, open transactions)
   * and, when the recorder was created with `attributeConnections: true`, sets the
   * connection's `application_name` to `tenancy:<tenantId>` for the transaction (in the same
   * statement as the context), so the control plane can attribute the connection. See
   * db/usage/usageRecorder.ts.
   */
  readonly usage?: UsageRecorder;
  /**
   * Sign the tenant context with this key (its id must be in the database's
   * `tenancy.context_keys`). Required by a database running the signed tenant context, where
   * an unsigned context sees no rows; omitted: the plain context (the default).
   */
  readonly signingKey?: ContextSigningKey;
  /** Lifetime of the signature, checked against the transaction's start. @default 60 */
  readonly signatureTtlSeconds?: number;
}

/** Thrown when the transaction could not be committed (e.g. `fn` swallowed a SQL error). */
export class TenantTransactionAbortedError extends Error {
  override readonly name = "TenantTransactionAbortedError";
}

const CLEAR = `SELECT pg_catalog.set_config('${TENANT_CONTEXT_SETTING}', '', false)`;
const CLEAR_SIGNED = `${CLEAR}, pg_catalog.set_config('${TENANT_SIGNATURE_SETTING}', '', false)`;

/**
 * Runs `fn` in a transaction whose tenant context is `tenantId`; always ends the transaction
 * and releases the connection. Returns what `fn` returns, after a successful COMMIT.
 *
 * @param pool a pool (or anything that hands out pg clients) connected as a role subject to
 *   RLS — the application role or a tenant role, never an owner or superuser.
 * @param tenantId the tenant's uuid from the registry (taken from a verified token, never
 *   from a request body). An empty id is refused.
 * @throws TenantTransactionAbortedError when the transaction was aborted inside `fn` and
 *   `fn` still returned normally; the error `fn` threw otherwise.
 */
export async function withTenant<T>(
  pool: Pick<pg.Pool, "connect">,
  tenantId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: WithTenantOptions = {},
): Promise<T> {
  if (typeof tenantId !== "string" || tenantId.length === 0) {
    throw new TypeError("withTenant: tenantId must be a non-empty string");
  }
  const timeout = options.statementTimeoutMs;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) {
    throw new TypeError(`withTenant: invalid statementTimeoutMs ${timeout}`);
  }
  const usage = options.usage;
  usage?.tenantCounters(tenantId); // refuses a tenant id that is not a uuid, before connecting
  const signature =
    options.signingKey === undefined
      ? undefined
      : signTenantContext(tenantId, options.signingKey, {
          ...(options.signatureTtlSeconds === undefined
            ? {}
            : { ttlSeconds: options.signatureTtlSeconds }),
        });
  const clear = signature === undefined ? CLEAR : CLEAR_SIGNED;
  const client = await pool.connect();
  // While checked out, a connection the server ends (a purge, pg_terminate_backend, a restart)
  // emits 'error' on the client, and pg's pool listens only to idle ones: without this the
  // application's process dies of an uncaught exception. The next statement rejects instead,
  // and the connection is destroyed below, never reused.
  const keepGoing = (): void => undefined;
  client.on("error", keepGoing);
  let opened = false;
  let healthy = false;
  let restore: (() => void) | undefined;
  try {
    await client.query("BEGIN");
    const settings = [TENANT_CONTEXT_SETTING, tenantId];
    let sql = "SELECT pg_catalog.set_config($1, $2, true)";
    if (signature !== undefined) {
      sql += `, pg_catalog.set_config($${settings.length + 1}, $${settings.length + 2}, true)`;
      settings.push(TENANT_SIGNATURE_SETTING, signature);
    }
    if (timeout !== undefined) {
      sql += `, pg_catalog.set_config('statement_timeout', $${settings.length + 1}, true)`;
      settings.push(`${timeout}ms`);
    }
    if (usage?.attributeConnections) {
      sql += `, pg_catalog.set_config('application_name', $${settings.length + 1}, true)`;
      settings.push(`${TENANT_APPLICATION_NAME_PREFIX}${tenantId}`);
    }
    await client.query(sql, settings);
    if (usage) {
      const counters = usage.tenantCounters(tenantId);
      counters.transactions += 1;
      counters.open += 1;
      if (counters.open > counters.peakConcurrency) counters.peakConcurrency = counters.open;
      opened = true;
      // Looked up per statement: a flush in the middle of fn starts fresh counters.
      restore = recordQueries(client, () => usage.tenantCounters(tenantId));
    }
    let result: T;
    try {
      result = await fn(client);
    } catch (error) {
      restore?.();
      restore = undefined;
      await finish(client, "ROLLBACK", clear);
      healthy = true;
      throw error;
    }
    restore?.();
    restore = undefined;
    const committed = await finish(client, "COMMIT", clear);
    healthy = true;
    if (!committed) {
      throw new TenantTransactionAbortedError(
        "withTenant: the transaction was aborted by an error inside fn and has been rolled back",
      );
    }
    return result;
  } finally {
    restore?.();
    if (opened) {
      const counters = usage!.tenantCounters(tenantId);
      counters.open = Math.max(0, counters.open - 1);
    }
    client.off("error", keepGoing);
    // A connection whose state we could not restore is destroyed, never reused.
    client.release(healthy ? undefined : true);
  }
}

/** Ends the transaction and clears the session-level context in one round trip. */
async function finish(
  client: pg.PoolClient,
  verb: "COMMIT" | "ROLLBACK",
  clear: string,
): Promise<boolean> {
  const results = (await client.query(`${verb}; ${clear}`)) as unknown as pg.QueryResult[];
  const first = Array.isArray(results) ? results[0] : undefined;
  return verb === "ROLLBACK" || first?.command === "COMMIT";
}
