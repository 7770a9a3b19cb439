/**
 * The rows a tier move would copy, counted read-only in the tenant's current placement (the
 * registry in the control database names it): per tenant table, that tenant's rows
 * (`tenant_id` = its registry id). `tenancy diff` is offline unless it is given a database
 * (`--rows-from`); without one the rows are reported as not counted.
 */
import pg from "pg";
import { findTenant } from "../db/registry.ts";
import { listTenantTables } from "../db/tenantTables.ts";
import { inTransaction } from "../db/transaction.ts";

export type MoveRows =
  | {
      readonly counted: true;
      /** The placement counted: its database mode, database and schema. */
      readonly source: {
        readonly mode: string;
        readonly database: string;
        readonly schema: string;
      };
      readonly total: number;
      readonly tables: readonly { readonly table: string; readonly rows: number }[];
    }
  | { readonly counted: false; readonly reason: string };

/** What the report says when no database was given. */
export const OFFLINE_ROWS: MoveRows = {
  counted: false,
  reason: "offline; pass --rows-from <postgres url of the control database> to count",
};

/**
 * Counts each slug's rows through `url` (the control database; a dedicated tenant's database
 * is read on the same server with the same credentials). Read-only transactions with
 * `row_security = off`: a role that cannot read past row-level security gets an error
 * (reported as not counted), never a filtered count of zero.
 */
export async function countMoveRows(
  url: string,
  slugs: readonly string[],
): Promise<Map<string, MoveRows>> {
  const out = new Map<string, MoveRows>();
  if (slugs.length === 0) return out;
  const control = new pg.Client({ connectionString: url });
  try {
    await control.connect();
  } catch (error) {
    for (const slug of slugs) out.set(slug, notCounted(`cannot connect: ${message(error)}`));
    return out;
  }
  try {
    const controlDatabase = (await control.query<{ db: string }>("SELECT current_database() AS db"))
      .rows[0]!.db;
    for (const slug of slugs) {
      try {
        const row = await inTransaction(control, async () => {
          await control.query("SET TRANSACTION READ ONLY");
          return findTenant(control, slug);
        });
        if (!row) {
          out.set(slug, notCounted(`not in the registry of database ${controlDatabase}`));
          continue;
        }
        const tables =
          row.databaseName === controlDatabase
            ? await countIn(control, row.schemaName, row.id)
            : await countInDatabase(url, row.databaseName, row.schemaName, row.id);
        out.set(slug, {
          counted: true,
          source: { mode: row.mode, database: row.databaseName, schema: row.schemaName },
          total: tables.reduce((sum, t) => sum + t.rows, 0),
          tables,
        });
      } catch (error) {
        out.set(slug, notCounted(message(error)));
      }
    }
  } finally {
    await control.end();
  }
  return out;
}

async function countInDatabase(
  url: string,
  database: string,
  schema: string,
  tenantId: string,
): Promise<{ table: string; rows: number }[]> {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  const client = new pg.Client({ connectionString: parsed.toString() });
  await client.connect();
  try {
    return await countIn(client, schema, tenantId);
  } finally {
    await client.end();
  }
}

async function countIn(
  client: pg.Client,
  schema: string,
  tenantId: string,
): Promise<{ table: string; rows: number }[]> {
  return inTransaction(client, async () => {
    await client.query("SET TRANSACTION READ ONLY");
    await client.query("SET LOCAL row_security = off");
    const listed = await listTenantTables(client, [schema]);
    // A partition is counted through its partitioned parent.
    const { rows: partitions } = await client.query<{ oid: number }>(
      "SELECT oid::int AS oid FROM pg_catalog.pg_class WHERE oid = ANY ($1::oid[]) AND relispartition",
      [listed.map((t) => t.oid)],
    );
    const skipped = new Set(partitions.map((p) => p.oid));
    const tables = listed.filter((t) => !skipped.has(t.oid) && !t.name.startsWith("_tenancy"));
    const counts: { table: string; rows: number }[] = [];
    for (const table of tables) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${table.quoted} WHERE tenant_id::text = $1`,
        [tenantId],
      );
      counts.push({ table: table.display, rows: Number(rows[0]?.n ?? 0) });
    }
    return counts;
  });
}

function notCounted(reason: string): MoveRows {
  return { counted: false, reason };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
