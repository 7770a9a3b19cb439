/**
 * Offboarding with proof. Removes everything a tenant has — its rows in every tenant table of
 * the control database (deleted as the owner role under the tenant's own context: nothing is
 * bypassed silently), its schema, its dedicated database, its login role and its registry
 * row — then verifies as the audit role, with row security switched off so that a hidden row
 * would raise an error rather than be filtered, that nothing remains. Idempotent.
 */
import pg from "pg";
import { TENANT_SIGNATURE_SETTING } from "./contextSigning.ts";
import { TENANT_CONTEXT_SETTING } from "./contextSql.ts";
import {
  DEFAULT_DATABASE_PREFIX,
  DEFAULT_ROLE_PREFIX,
  assertTenantId,
  assertTenantSlug,
  managedRoles,
  quoteIdent,
  tenantDatabaseName,
  tenantRoleName,
  tenantSchemaName,
} from "./identifiers.ts";
import { findTenant, unregisterTenant } from "./registry.ts";
import { SIGN_FUNCTION_CALL, SIGNED_MODE_SQL } from "./signedContextSql.ts";
import { listTenantTables, type TenantTable } from "./tenantTables.ts";
import {
  errorMessage,
  inTransaction,
  lockTenantDdl,
  withClient,
  type Queryable,
} from "./transaction.ts";

export interface PurgeOptions {
  /** Superuser URL of the control database. */
  readonly adminUrl: string;
  readonly slug: string;
  /** Needed only when the tenant is no longer registered and rows may remain. */
  readonly tenantId?: string;
  /** @default "tenancy" */
  readonly rolePrefix?: string;
  /** @default "tenant" */
  readonly databasePrefix?: string;
  /**
   * Parts of the tenant to leave in place, neither removed nor verified: a move purges only
   * its old placement (e.g. `["schema", "role", "database", "registry"]` purges the rows in
   * the shared tables). @default nothing kept
   */
  readonly keep?: readonly PurgePart[];
}

/** What a purge removes: the rows in shared tables, and the objects. */
export type PurgePart = "rows" | PurgedObject["kind"];

export interface PurgedTable {
  /** `schema.table`. */
  readonly table: string;
  /** Rows deleted by this run (rows removed by ON DELETE CASCADE count on their parent). */
  readonly deleted: number;
  /** Rows of the tenant found by the audit role afterwards: must be 0. */
  readonly remaining: number;
}

export interface PurgedObject {
  readonly kind: "schema" | "role" | "database" | "registry";
  readonly name: string;
  /** Whether this run removed it (false: it was already gone). */
  readonly removed: boolean;
  /** Whether the audit role still finds it afterwards: must be false. */
  readonly remaining: boolean;
}

export interface PurgeReport {
  readonly slug: string;
  readonly tenantId?: string;
  readonly tables: readonly PurgedTable[];
  readonly objects: readonly PurgedObject[];
  /** True when the audit role found no row and no object of the tenant. */
  readonly verified: boolean;
  /** The role that verified. */
  readonly verifiedBy: string;
}

/** Purges a tenant and verifies; throws when verification finds anything left. */
export async function purgeTenant(options: PurgeOptions): Promise<PurgeReport> {
  const slug = assertTenantSlug(options.slug);
  const prefix = options.rolePrefix ?? DEFAULT_ROLE_PREFIX;
  const roles = managedRoles(prefix);
  const names = {
    schema: tenantSchemaName(slug),
    role: tenantRoleName(prefix, slug),
    database: tenantDatabaseName(options.databasePrefix ?? DEFAULT_DATABASE_PREFIX, slug),
  };
  return withClient(pg, options.adminUrl, async (client) => {
    const registered = await findTenant(client, slug).catch(() => undefined);
    const tenantId = registered?.id ?? (options.tenantId && assertTenantId(options.tenantId));
    const removed = new Map<string, boolean>();
    const keep = new Set<PurgePart>(options.keep ?? []);

    if (!keep.has("database")) {
      // A kept role goes on serving the tenant elsewhere (a move between its dedicated
      // database and its schema): only the dropped database's sessions end (FORCE).
      const sessionsOf = keep.has("role") ? undefined : names.role;
      removed.set("database", await dropDatabase(client, names.database, sessionsOf));
    }
    const deleted = await inTransaction(client, async () => {
      await lockTenantDdl(client);
      const counts =
        tenantId && !keep.has("rows")
          ? await deleteRows(client, roles.owner, tenantId)
          : new Map<string, number>();
      if (!keep.has("schema")) {
        const schema = await client.query(
          "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
          [names.schema],
        );
        if (schema.rows.length > 0) {
          await client.query(`DROP SCHEMA ${quoteIdent(names.schema)} CASCADE`);
        }
        removed.set("schema", schema.rows.length > 0);
      }
      if (!keep.has("role")) removed.set("role", await dropRole(client, names.role));
      if (!keep.has("registry")) {
        removed.set("registry", registered ? await unregisterTenant(client, slug) : false);
      }
      return counts;
    });

    const proof = await verify(
      client,
      roles.audit,
      keep.has("rows") ? undefined : tenantId,
      names,
      slug,
    );
    const tables = keep.has("rows")
      ? []
      : proof.tables.map((t) => ({
          table: t.table,
          deleted: deleted.get(t.table) ?? 0,
          remaining: t.remaining,
        }));
    const objects: PurgedObject[] = (["database", "schema", "role", "registry"] as const)
      .filter((kind) => !keep.has(kind))
      .map((kind) => ({
        kind,
        name: kind === "registry" ? slug : names[kind],
        removed: removed.get(kind) ?? false,
        remaining: proof.objects[kind],
      }));
    const verified = tables.every((t) => t.remaining === 0) && objects.every((o) => !o.remaining);
    const report: PurgeReport = {
      slug,
      ...(tenantId ? { tenantId } : {}),
      tables,
      objects,
      verified,
      verifiedBy: roles.audit,
    };
    if (!verified) {
      const left = [
        ...tables.filter((t) => t.remaining > 0).map((t) => `${t.remaining} rows in ${t.table}`),
        ...objects.filter((o) => o.remaining).map((o) => `${o.kind} ${o.name}`),
      ];
      throw Object.assign(
        new Error(`purge of tenant ${slug} incomplete: ${left.join(", ")} remain`),
        { report },
      );
    }
    return report;
  });
}

/** Deletes the tenant's rows from every tenant table, children before parents. */
async function deleteRows(
  client: Queryable,
  owner: string,
  tenantId: string,
): Promise<Map<string, number>> {
  const tables = orderChildrenFirst(await sharedTenantTables(client), await foreignKeys(client));
  await client.query(`SET LOCAL ROLE ${quoteIdent(owner)}`);
  await client.query("SELECT pg_catalog.set_config($1, $2, true)", [
    TENANT_CONTEXT_SETTING,
    tenantId,
  ]);
  if ((await client.query<{ signed: boolean }>(SIGNED_MODE_SQL)).rows[0]?.signed) {
    // Signed tenant context: the owner signs with the database's own key (shared tables).
    await client.query(
      `SELECT pg_catalog.set_config($1, coalesce(${SIGN_FUNCTION_CALL}($2, 300), ''), true)`,
      [TENANT_SIGNATURE_SETTING, tenantId],
    );
  }
  const counts = new Map<string, number>();
  for (const table of tables) {
    try {
      const rowCount = await unlessDropped(client, async () => {
        const result = await client.query(`DELETE FROM ${table.quoted} WHERE tenant_id = $1`, [
          tenantId,
        ]);
        return result.rowCount ?? 0;
      });
      counts.set(table.display, rowCount ?? 0);
    } catch (error) {
      throw new Error(
        `purge: deleting from ${table.display} as ${owner} failed: ${errorMessage(error)}`,
      );
    }
  }
  await client.query("RESET ROLE");
  return counts;
}

async function foreignKeys(client: Queryable): Promise<{ child: number; parent: number }[]> {
  const { rows } = await client.query<{ child: number; parent: number }>(
    `SELECT conrelid::int AS child, confrelid::int AS parent FROM pg_catalog.pg_constraint
      WHERE contype = 'f' AND conrelid <> confrelid`,
  );
  return rows;
}

/**
 * Tenant tables shared by several tenants: every table with `tenant_id` outside the bridge
 * tenants' own schemas. A bridge schema belongs to one tenant and goes as a whole (DROP
 * SCHEMA); touching another tenant's schema from this purge would also take locks on it and
 * deadlock with that tenant's own offboarding running at the same time.
 */
async function sharedTenantTables(client: Queryable): Promise<TenantTable[]> {
  const probe = tenantSchemaName("ab");
  const bridgePrefix = probe.slice(0, probe.length - 2); // "tenant_"
  return (await listTenantTables(client)).filter((table) => !table.schema.startsWith(bridgePrefix));
}

/**
 * Runs `work` on one table inside a savepoint; when the table (or its schema) was dropped
 * after it was listed — another tenant offboarded at the same time — returns undefined: a
 * table that no longer exists holds no rows. Any other error propagates.
 */
async function unlessDropped<T>(client: Queryable, work: () => Promise<T>): Promise<T | undefined> {
  await client.query("SAVEPOINT purge_table");
  try {
    const result = await work();
    await client.query("RELEASE SAVEPOINT purge_table");
    return result;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    const dropped =
      code === "42P01" ||
      code === "3F000" ||
      (code === "XX000" && /could not open relation/.test(message ?? ""));
    if (!dropped) throw error;
    await client.query("ROLLBACK TO SAVEPOINT purge_table");
    return undefined;
  }
}

/** Topological order: a table referencing another comes first. Cycles keep input order. */
export function orderChildrenFirst(
  tables: readonly TenantTable[],
  edges: readonly { child: number; parent: number }[],
): TenantTable[] {
  const ordered: TenantTable[] = [];
  const visiting = new Set<number>();
  const done = new Set<number>();
  const byOid = new Map(tables.map((t) => [t.oid, t]));
  const visit = (table: TenantTable): void => {
    if (done.has(table.oid) || visiting.has(table.oid)) return;
    visiting.add(table.oid);
    for (const edge of edges) {
      const child = byOid.get(edge.child);
      if (edge.parent === table.oid && child) visit(child);
    }
    visiting.delete(table.oid);
    done.add(table.oid);
    ordered.push(table);
  };
  tables.forEach(visit);
  return ordered;
}

async function dropDatabase(
  client: Queryable,
  database: string,
  role: string | undefined,
): Promise<boolean> {
  const { rows } = await client.query("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", [
    database,
  ]);
  if (rows.length === 0) return false;
  if (role !== undefined) {
    await client.query(
      "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1",
      [role],
    );
  }
  await client.query(`DROP DATABASE ${quoteIdent(database)} WITH (FORCE)`);
  return true;
}

async function dropRole(client: Queryable, role: string): Promise<boolean> {
  const { rows } = await client.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [
    role,
  ]);
  if (rows.length === 0) return false;
  await client.query(
    "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1",
    [role],
  );
  await client.query(`DROP OWNED BY ${quoteIdent(role)}`);
  try {
    await client.query(`DROP ROLE ${quoteIdent(role)}`);
  } catch (error) {
    throw new Error(
      `purge: cannot drop role ${role}: ${errorMessage(error)} (it still has privileges in another database; run DROP OWNED BY there)`,
    );
  }
  return true;
}

interface Proof {
  tables: { table: string; remaining: number }[];
  objects: Record<PurgedObject["kind"], boolean>;
}

/** Counts what is left, as the audit role with row_security = off (errors instead of filtering). */
async function verify(
  client: Queryable,
  audit: string,
  tenantId: string | undefined,
  names: { schema: string; role: string; database: string },
  slug: string,
): Promise<Proof> {
  return inTransaction(client, async () => {
    await client.query("SET TRANSACTION READ ONLY");
    await client.query(`SET LOCAL ROLE ${quoteIdent(audit)}`);
    await client.query("SET LOCAL row_security = off");
    const tables: Proof["tables"] = [];
    for (const table of await sharedTenantTables(client)) {
      if (!tenantId) {
        tables.push({ table: table.display, remaining: 0 });
        continue;
      }
      const remaining = await unlessDropped(client, async () => {
        const { rows } = await client.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${table.quoted} WHERE tenant_id = $1`,
          [tenantId],
        );
        return Number(rows[0]?.n ?? 0);
      });
      tables.push({ table: table.display, remaining: remaining ?? 0 });
    }
    const { rows } = await client.query<Proof["objects"]>(
      `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1) AS schema,
              EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $2) AS role,
              EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $3) AS database,
              false AS registry`,
      [names.schema, names.role, names.database],
    );
    const objects = rows[0];
    if (!objects) throw new Error("purge verification returned no row");
    const registry = await client.query<{ ok: boolean }>(
      "SELECT to_regclass('tenancy.tenants') IS NOT NULL AS ok",
    );
    if (registry.rows[0]?.ok) {
      const row = await findTenant(client, slug);
      objects.registry = row !== undefined;
    }
    return { tables, objects };
  });
}
