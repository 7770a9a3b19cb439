/**
 * Applies a tenant migration set to many schemas of one database: bounded concurrency, one
 * transaction per schema (a failure leaves that schema exactly as it was and does not touch
 * the others), a ledger per schema so re-runs skip what is applied and an interrupted run
 * resumes. New tables are protected (RLS, policy, tenant_id index) in the same transaction.
 * A run with nothing to do costs one catalog query plus one ledger query per 400 schemas.
 */
import pg from "pg";
import { DEFAULT_ROLE_PREFIX, managedRoles, quoteIdent, quoteQualified } from "../identifiers.ts";
import { protectTables } from "../protect.ts";
import { errorMessage, redactUrl } from "../transaction.ts";
import { LEDGER_TABLE, ensureLedger, readLedger, readLedgers, type Ledger } from "./ledger.ts";
import type { TenantMigration } from "./migrationSet.ts";

export interface MigrateSchemasOptions {
  /** Superuser (or owner-capable) URL of the database holding the schemas. */
  readonly url: string;
  readonly schemas: readonly string[];
  readonly migrations: readonly TenantMigration[];
  /** Schemas migrated at once (= connections used). @default 4 */
  readonly concurrency?: number;
  /** Prefix of the managed roles; migrations run as `<prefix>_owner`. @default "tenancy" */
  readonly rolePrefix?: string;
  /** Protect tenant tables after migrating a schema. @default true */
  readonly protect?: boolean;
  /** When aborted, no further schema is started (the ones running finish). */
  readonly signal?: AbortSignal;
  /** Called after each schema. */
  readonly onSchema?: (result: SchemaResult) => void;
}

export interface SchemaResult {
  readonly database: string;
  readonly schema: string;
  readonly status: "applied" | "up-to-date" | "failed" | "not-started";
  /** Migration ids applied by this run. */
  readonly applied: readonly string[];
  readonly error?: string;
}

export interface MigrateSummary {
  readonly schemas: number;
  readonly applied: number;
  readonly upToDate: number;
  readonly failed: number;
  readonly notStarted: number;
  readonly durationMs: number;
  readonly results: readonly SchemaResult[];
}

/** Migrates `schemas`; never throws for a schema's failure (see the summary). */
export async function migrateSchemas(options: MigrateSchemasOptions): Promise<MigrateSummary> {
  const started = performance.now();
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new Error(`invalid concurrency ${concurrency}: expected 1..64`);
  }
  const owner = managedRoles(options.rolePrefix ?? DEFAULT_ROLE_PREFIX).owner;
  const database = new URL(options.url).pathname.slice(1);
  const pool = new pg.Pool({ connectionString: options.url, max: concurrency });
  pool.on("error", () => undefined); // terminated idle clients: the query that needs one reports it
  pool.on("connect", (client) => client.on("error", () => undefined)); // and checked-out ones
  try {
    const probe = await pool.connect().catch((error: unknown) => {
      throw new Error(`cannot connect to ${redactUrl(options.url)}: ${errorMessage(error)}`);
    });
    let ledgers: Map<string, Ledger>;
    try {
      ledgers = await readLedgers(probe, options.schemas);
    } finally {
      probe.release();
    }
    const results = new Map<string, SchemaResult>();
    const queue: string[] = [];
    for (const schema of options.schemas) {
      const problem = checksumProblem(ledgers.get(schema), options.migrations);
      if (problem) {
        results.set(schema, { database, schema, status: "failed", applied: [], error: problem });
      } else if (pending(ledgers.get(schema), options.migrations).length === 0) {
        results.set(schema, { database, schema, status: "up-to-date", applied: [] });
      } else {
        queue.push(schema);
      }
    }
    const worker = async (): Promise<void> => {
      for (let schema = queue.shift(); schema !== undefined; schema = queue.shift()) {
        if (options.signal?.aborted) {
          results.set(schema, { database, schema, status: "not-started", applied: [] });
          continue;
        }
        const result = await migrateOne(pool, database, schema, owner, options);
        results.set(schema, result);
        options.onSchema?.(result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    const ordered = options.schemas.map((s) => results.get(s)).filter((r) => r !== undefined);
    const count = (status: SchemaResult["status"]) =>
      ordered.filter((r) => r.status === status).length;
    return {
      schemas: ordered.length,
      applied: count("applied"),
      upToDate: count("up-to-date"),
      failed: count("failed"),
      notStarted: count("not-started"),
      durationMs: Math.round(performance.now() - started),
      results: ordered,
    };
  } finally {
    await pool.end();
  }
}

function pending(ledger: Ledger | undefined, migrations: readonly TenantMigration[]) {
  return migrations.filter((m) => !ledger?.has(m.id));
}

function checksumProblem(
  ledger: Ledger | undefined,
  migrations: readonly TenantMigration[],
): string | undefined {
  const changed = migrations.find((m) => ledger?.has(m.id) && ledger.get(m.id) !== m.checksum);
  return changed
    ? `migration ${changed.id} was changed after it was applied (checksum differs); add a new migration instead`
    : undefined;
}

async function migrateOne(
  pool: pg.Pool,
  database: string,
  schema: string,
  owner: string,
  options: MigrateSchemasOptions,
): Promise<SchemaResult> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    return { database, schema, status: "failed", applied: [], error: errorMessage(error) };
  }
  let current = "(setup)";
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    await client.query(
      "SELECT pg_advisory_xact_lock(pg_catalog.hashtext('tenancy.migrate'), pg_catalog.hashtext($1))",
      [schema],
    );
    const exists = await client.query("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", [
      schema,
    ]);
    if (exists.rows.length === 0) throw new Error(`schema ${schema} does not exist`);
    await ensureLedger(client, schema, owner);
    const ledger = await readLedger(client, schema); // re-read under the lock
    const problem = checksumProblem(ledger, options.migrations);
    if (problem) throw new Error(problem);
    const todo = pending(ledger, options.migrations);
    await client.query("SELECT pg_catalog.set_config('search_path', $1, true)", [
      quoteIdent(schema),
    ]);
    await client.query(`SET LOCAL ROLE ${quoteIdent(owner)}`);
    for (const migration of todo) {
      current = migration.id;
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO ${quoteQualified(schema, LEDGER_TABLE)} (id, checksum) VALUES ($1, $2)`,
        [migration.id, migration.checksum],
      );
    }
    current = "(protect)";
    if (options.protect ?? true) await protectTables(client, { schemas: [schema] });
    current = "(commit)";
    await client.query("COMMIT");
    return {
      database,
      schema,
      status: todo.length > 0 ? "applied" : "up-to-date",
      applied: todo.map((m) => m.id),
    };
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    return {
      database,
      schema,
      status: "failed",
      applied: [],
      error: `schema ${schema}: migration ${current} failed: ${errorMessage(error)}`,
    };
  } finally {
    client.release(broken);
  }
}
