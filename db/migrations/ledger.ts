/**
 * The per-schema migration ledger (`<schema>._tenancy_migrations`), and reading the ledgers of
 * many schemas in a few round trips so that a no-op run stays fast.
 */
import { quoteIdent, quoteQualified } from "../identifiers.ts";
import type { Queryable } from "../transaction.ts";

export const LEDGER_TABLE = "_tenancy_migrations";

/** Applied migrations of one schema: id → checksum. */
export type Ledger = ReadonlyMap<string, string>;

/**
 * Creates the ledger when missing, owned by `owner`, usable by nobody else; an existing
 * ledger is brought back to that (owner re-asserted, every other grant revoked).
 */
export async function ensureLedger(
  client: Queryable,
  schema: string,
  owner: string,
): Promise<void> {
  const table = quoteQualified(schema, LEDGER_TABLE);
  const { rows } = await client.query<{ owner: string | null; grantees: string[] | null }>(
    `SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                              ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
                    FROM pg_catalog.aclexplode(c.relacl) a
                   WHERE a.grantee <> c.relowner GROUP BY a.grantee) AS grantees
       FROM pg_catalog.pg_class c WHERE c.oid = to_regclass($1)`,
    [table],
  );
  const existing = rows[0];
  if (existing) {
    if (existing.owner !== owner) {
      await client.query(`ALTER TABLE ${table} OWNER TO ${quoteIdent(owner)}`);
    }
    for (const grantee of existing.grantees ?? []) {
      await client.query(`REVOKE ALL ON ${table} FROM ${grantee}`);
    }
    return;
  }
  // Created by the session user, then handed over: the owner's default privileges (which
  // grant the tenant role DML on new tables) must not apply to the ledger.
  await client.query(
    `CREATE TABLE ${table} (id text PRIMARY KEY, checksum text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  await client.query(`ALTER TABLE ${table} OWNER TO ${quoteIdent(owner)}`);
  await client.query(`REVOKE ALL ON ${table} FROM PUBLIC`);
}

/** The ledger of one schema (empty when it has none). */
export async function readLedger(client: Queryable, schema: string): Promise<Ledger> {
  const { rows } = await client.query<{ id: string; checksum: string }>(
    `SELECT id, checksum FROM ${quoteQualified(schema, LEDGER_TABLE)}`,
  );
  return new Map(rows.map((r) => [r.id, r.checksum]));
}

const BATCH = 400;

/**
 * Ledgers of many schemas: one catalog query finds which have a ledger, then one UNION ALL
 * query per {@link BATCH} schemas reads them.
 */
export async function readLedgers(
  client: Queryable,
  schemas: readonly string[],
): Promise<Map<string, Ledger>> {
  const { rows: tables } = await client.query<{ schema: string; oid: number }>(
    `SELECT n.nspname AS schema, c.oid::int AS oid
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND n.nspname = ANY ($2::text[])`,
    [LEDGER_TABLE, [...schemas]],
  );
  const bySchemaOid = new Map(tables.map((t) => [t.oid, t.schema]));
  const ledgers = new Map<string, Map<string, string>>(schemas.map((s) => [s, new Map()]));
  for (let i = 0; i < tables.length; i += BATCH) {
    const sql = tables
      .slice(i, i + BATCH)
      .map(
        (t) =>
          `SELECT tableoid::int AS t, id, checksum FROM ${quoteQualified(t.schema, LEDGER_TABLE)}`,
      )
      .join("\nUNION ALL ");
    const { rows } = await client.query<{ t: number; id: string; checksum: string }>(sql);
    for (const row of rows) {
      const schema = bySchemaOid.get(row.t);
      if (schema !== undefined) ledgers.get(schema)?.set(row.id, row.checksum);
    }
  }
  return ledgers;
}
