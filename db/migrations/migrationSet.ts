/**
 * Tenant migrations: an ordered set of SQL scripts applied to every tenant schema (and the
 * shared schema, and every dedicated database). Scripts use unqualified names — they run with
 * `search_path` set to the target schema — and must not contain BEGIN/COMMIT: each schema is
 * migrated in one transaction.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface TenantMigration {
  /** Sort key and ledger key, e.g. `0001_projects`. */
  readonly id: string;
  readonly sql: string;
  /** sha256 of the SQL; a changed applied migration is refused. */
  readonly checksum: string;
}

/** Directory of the example migration set shipped with the project. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(
  new URL("../tenant-migrations/", import.meta.url),
);

const ID_PATTERN = /^[0-9]{4,}_[a-z0-9_]+$/;

/** Builds a migration set from `{ id, sql }` pairs (sorted by id; ids must be unique). */
export function defineMigrations(
  entries: readonly { readonly id: string; readonly sql: string }[],
): TenantMigration[] {
  const seen = new Set<string>();
  for (const { id } of entries) {
    if (!ID_PATTERN.test(id)) {
      throw new Error(
        `invalid migration id ${JSON.stringify(id)}: expected e.g. 0001_create_projects`,
      );
    }
    if (seen.has(id)) throw new Error(`duplicate migration id ${id}`);
    seen.add(id);
  }
  return [...entries]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(({ id, sql }) => ({
      id,
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    }));
}

/** Loads `<dir>/*.sql` as a migration set; the id is the file name without `.sql`. */
export async function loadMigrationDirectory(dir: string): Promise<TenantMigration[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".sql"));
  } catch (error) {
    throw new Error(`cannot read migrations directory ${dir}: ${(error as Error).message}`);
  }
  if (names.length === 0) throw new Error(`migrations directory ${dir} holds no .sql file`);
  const entries = await Promise.all(
    names.map(async (name) => ({
      id: name.slice(0, -".sql".length),
      sql: await readFile(join(dir, name), "utf8"),
    })),
  );
  return defineMigrations(entries);
}
