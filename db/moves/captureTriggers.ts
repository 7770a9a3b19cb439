/**
 * Per-move triggers on the source tables, one function per table with the tenant id written
 * into it (no lookup, no snapshot: a REPEATABLE READ writer cannot miss it):
 *
 * - **capture** (during the copy): a write of the tenant records the written keys in
 *   `tenancy.tenant_move_changes` — but first takes the tenant's fence lock in shared mode
 *   with a try-lock, so while the mover holds it exclusively the write fails fast with
 *   TN001 (reads never touch it; other tenants' rows never reach it, see below);
 * - **read-only** (after the switch, during the grace period): a write of the tenant fails
 *   with TN002, except a DELETE by a session acting as the owner role (`SET ROLE`, as the
 *   purge deletes). Checked on the `role` setting, which only the owner's members can set
 *   (superusers, a non-superuser administrator) — they own the trigger and could drop it
 *   anyway — so a tenant's roles cannot bypass it; and it costs no catalog lookup per row
 *   (the `pg_roles` lookup of the session user it replaces made the purge of 200k guarded
 *   rows 2.1–2.2× as slow as the same purge without a guard; now 1.08×, bench/purge.ts).
 *
 * The triggers sit on tables other tenants share (pool), so each is one event with a `WHEN`
 * on the tenant id (INSERT: NEW, UPDATE: OLD or NEW, DELETE: OLD — one trigger for all
 * three cannot name both records): the server compares the column itself and calls the
 * PL/pgSQL function for the moving tenant's rows only. Another tenant's write costs one
 * comparison per trigger instead of a function call, during the copy and the whole grace
 * period.
 *
 * The functions are SECURITY DEFINER owned by the owner role (writers need no grant on the
 * change table) with EXECUTE revoked from PUBLIC (triggers fire without it).
 */
import { PLATFORM_SCHEMA, quoteIdent, quoteLiteral } from "../identifiers.ts";
import type { Queryable } from "../transaction.ts";
import { TENANT_FENCED_SQLSTATE, TENANT_MOVED_SQLSTATE } from "./moveErrors.ts";
import type { MoveTable } from "./moveTables.ts";

const platform = quoteIdent(PLATFORM_SCHEMA);

/** Advisory-lock key pair of a tenant's write fence, as SQL. */
export function fenceLockKeySql(tenantId: string): string {
  return `pg_catalog.hashtext('tenancy.move-fence'), pg_catalog.hashtext(${quoteLiteral(tenantId)})`;
}

function tag(tenantId: string): string {
  return tenantId.replaceAll("-", "");
}

/** Prefix of the move's trigger names (the same on every source table of the move). */
export function triggerPrefix(tenantId: string): string {
  return `tenancy_move_${tag(tenantId)}`;
}

type TriggerEvent = "INSERT" | "UPDATE" | "DELETE";

const EVENTS: readonly TriggerEvent[] = ["INSERT", "UPDATE", "DELETE"];

function triggerName(tenantId: string, event: TriggerEvent): string {
  return `${triggerPrefix(tenantId)}_${event.slice(0, 3).toLowerCase()}`;
}

/**
 * Every trigger name a move of this tenant may have left: one per event, and the single
 * trigger for all three events that moves installed before the per-event `WHEN` triggers
 * (its grace-period guard stays until the purge drops it).
 */
function allTriggerNames(tenantId: string): string[] {
  return [triggerPrefix(tenantId), ...EVENTS.map((event) => triggerName(tenantId, event))];
}

/** The trigger's condition: the row (before or after the write) is the tenant's. */
function whenSql(table: MoveTable, tenantId: string, event: TriggerEvent): string {
  const id = `${quoteLiteral(tenantId)}::${table.source.tenantIdType}`;
  const of = (record: "OLD" | "NEW") => `${record}.tenant_id = ${id}`;
  if (event === "INSERT") return of("NEW");
  if (event === "DELETE") return of("OLD");
  return `${of("OLD")} OR ${of("NEW")}`;
}

function functionName(tenantId: string, table: MoveTable): string {
  return `${platform}.${quoteIdent(`move_${tag(tenantId)}_${table.source.oid}`)}`;
}

type TriggerMode = "capture" | "read-only";

function functionSql(tenantId: string, table: MoveTable, mode: TriggerMode, owner: string): string {
  const id = `${quoteLiteral(tenantId)}::${table.source.tenantIdType}`;
  const keyOf = (record: "OLD" | "NEW") =>
    `pg_catalog.jsonb_build_object(${table.key
      .map((k) => `${quoteLiteral(k.name)}, ${record}.${quoteIdent(k.name)}`)
      .join(", ")})`;
  const keyTuple = (record: "OLD" | "NEW") =>
    `ROW(${table.key.map((k) => `${record}.${quoteIdent(k.name)}`).join(", ")})`;
  const capture = (record: "OLD" | "NEW") =>
    `INSERT INTO ${platform}.tenant_move_changes (tenant_id, table_oid, key)
       VALUES (${quoteLiteral(tenantId)}, ${table.source.oid}, ${keyOf(record)});`;
  const action =
    mode === "capture"
      ? `IF NOT pg_catalog.pg_try_advisory_xact_lock_shared(${fenceLockKeySql(tenantId)}) THEN
      RAISE EXCEPTION 'tenant fenced: tenant % is switching to a new placement; writes are refused for a moment', ${quoteLiteral(tenantId)}
        USING ERRCODE = '${TENANT_FENCED_SQLSTATE}', HINT = 'retry the transaction in a moment; reads continue';
    END IF;
    IF TG_OP = 'INSERT' THEN
      ${capture("NEW")}
    ELSIF TG_OP = 'DELETE' THEN
      ${capture("OLD")}
    ELSE
      IF ${keyTuple("OLD")} IS DISTINCT FROM ${keyTuple("NEW")} THEN
        ${capture("OLD")}
      END IF;
      ${capture("NEW")}
    END IF;`
      : `IF TG_OP = 'DELETE' AND pg_catalog.current_setting('role') = ${quoteLiteral(owner)} THEN
      RETURN OLD; -- the purge of the old placement (it deletes as the owner role)
    END IF;
    RAISE EXCEPTION 'tenant moved: tenant % no longer lives in %', ${quoteLiteral(tenantId)}, ${quoteLiteral(table.source.display)}
      USING ERRCODE = '${TENANT_MOVED_SQLSTATE}', HINT = 're-read the tenant routing record and retry on the new placement';`;
  return `CREATE OR REPLACE FUNCTION ${functionName(tenantId, table)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
  mine boolean;
BEGIN
  IF TG_OP = 'INSERT' THEN
    mine := NEW.tenant_id = ${id};
  ELSIF TG_OP = 'DELETE' THEN
    mine := OLD.tenant_id = ${id};
  ELSE
    mine := OLD.tenant_id = ${id} OR NEW.tenant_id = ${id};
  END IF;
  IF mine THEN
    ${action}
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION ${functionName(tenantId, table)}() FROM PUBLIC;`;
}

/**
 * Installs (or re-installs) the capture triggers, one table per transaction, as the owner
 * role. CREATE TRIGGER briefly takes a SHARE ROW EXCLUSIVE lock on the table (it waits for
 * writes in flight and holds back new ones until it commits): a short lock_timeout and
 * retries keep other tenants' writes from queueing behind a long transaction.
 */
export async function installCaptureTriggers(
  client: Queryable,
  owner: string,
  tenantId: string,
  tables: readonly MoveTable[],
): Promise<void> {
  for (const table of tables) {
    await withShortLock(client, async () => {
      await client.query(`SET LOCAL ROLE ${quoteIdent(owner)}`);
      await client.query(functionSql(tenantId, table, "capture", owner));
      const existing = await client.query<{ tgname: string }>(
        "SELECT tgname FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid AND tgname = ANY($2::text[])",
        [table.source.oid, allTriggerNames(tenantId)],
      );
      const present = new Set(existing.rows.map((r) => r.tgname));
      for (const event of EVENTS) {
        if (present.has(triggerName(tenantId, event))) continue;
        await client.query(
          `CREATE TRIGGER ${quoteIdent(triggerName(tenantId, event))} BEFORE ${event} ON ${table.source.quoted}
             FOR EACH ROW WHEN (${whenSql(table, tenantId, event)})
             EXECUTE FUNCTION ${functionName(tenantId, table)}()`,
        );
      }
      if (present.has(triggerPrefix(tenantId))) {
        // A move resumed from before the per-event triggers: the new ones replace it.
        await client.query(
          `DROP TRIGGER ${quoteIdent(triggerPrefix(tenantId))} ON ${table.source.quoted}`,
        );
      }
    });
  }
}

/** Turns the capture functions into read-only guards (inside the caller's switch transaction). */
export async function makeSourceReadOnly(
  client: Queryable,
  owner: string,
  tenantId: string,
  tables: readonly MoveTable[],
): Promise<void> {
  await client.query(`SET LOCAL ROLE ${quoteIdent(owner)}`);
  for (const table of tables) {
    await client.query(functionSql(tenantId, table, "read-only", owner));
  }
  await client.query("RESET ROLE");
}

/** Drops the move's triggers and functions from every table still carrying them. */
export async function dropMoveTriggers(client: Queryable, tenantId: string): Promise<void> {
  const { rows } = await client.query<{ table: string; names: string[] }>(
    `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS table,
            pg_catalog.array_agg(t.tgname::text ORDER BY t.tgname) AS names
       FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgname = ANY($1::text[]) AND NOT t.tgisinternal AND t.tgparentid = 0
      GROUP BY 1`,
    [allTriggerNames(tenantId)],
  );
  for (const { table, names } of rows) {
    // One table per transaction, all its triggers at once (one lock, and no table left with
    // half a move's triggers).
    await withShortLock(client, async () => {
      for (const name of names) {
        await client.query(`DROP TRIGGER IF EXISTS ${quoteIdent(name)} ON ${table}`);
      }
    });
  }
  const functions = await client.query<{ fn: string }>(
    `SELECT pg_catalog.format('%I.%I', n.nspname, p.proname) AS fn FROM pg_catalog.pg_proc p
       JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname LIKE $2`,
    [PLATFORM_SCHEMA, `move\\_${tag(tenantId)}\\_%`],
  );
  for (const { fn } of functions.rows) await client.query(`DROP FUNCTION IF EXISTS ${fn}()`);
}

/** Runs DDL in its own transaction with a 500 ms lock_timeout, retried up to 20 times. */
export async function withShortLock(
  client: Queryable,
  work: () => Promise<unknown>,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    await client.query("BEGIN");
    try {
      await client.query("SET LOCAL lock_timeout = '500ms'");
      await work();
      await client.query("COMMIT");
      return;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      const lockTimeout = (error as { code?: string }).code === "55P03";
      if (!lockTimeout || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
