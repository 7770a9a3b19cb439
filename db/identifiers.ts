/**
 * The one place where SQL identifiers and literals are validated and quoted, and where
 * every managed object name (roles, schemas, databases) is derived from a tenant slug
 * and a configurable prefix. No other module builds SQL text from tenant input.
 */
import { slugProblem } from "../contract/slug.ts";

/** Prefixes of roles and databases: lowercase SQL identifiers without quoting surprises. */
export const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,39}$/;

/** PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/** Shape of the tenant ids the registry hands out. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Schema holding the platform's own objects (registry, context functions) in every database. */
export const PLATFORM_SCHEMA = "tenancy";

/** Schema holding the application tables of pooled tenants, and of a dedicated database. */
export const DEFAULT_SHARED_SCHEMA = "app";

/** Default prefix of the managed roles (`tenancy_owner`, `tenancy_app`, ...). */
export const DEFAULT_ROLE_PREFIX = "tenancy";

/** Default prefix of dedicated tenant databases (`tenant_<slug>`). */
export const DEFAULT_DATABASE_PREFIX = "tenant";

/** Raised for a name that is not a valid slug, prefix or identifier. */
export class InvalidIdentifierError extends Error {
  override readonly name = "InvalidIdentifierError";
}

/**
 * Quotes an identifier for SQL text: `"name"` with embedded quotes doubled. Refuses empty
 * names, NUL bytes and names PostgreSQL would silently truncate.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new InvalidIdentifierError("an SQL identifier must not be empty");
  if (name.includes("\0")) throw new InvalidIdentifierError("an SQL identifier must not hold NUL");
  if (Buffer.byteLength(name, "utf8") > MAX_IDENTIFIER_BYTES) {
    throw new InvalidIdentifierError(
      `identifier ${JSON.stringify(name)} is longer than ${MAX_IDENTIFIER_BYTES} bytes; PostgreSQL would truncate it`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a schema-qualified name: `"schema"."name"`. */
export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/**
 * Quotes a string literal (`'...'`, quotes doubled; E'' never used). Only for the few places
 * PostgreSQL accepts no bind parameter: passwords in CREATE/ALTER ROLE, values of ALTER ROLE SET.
 */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new InvalidIdentifierError("an SQL literal must not hold NUL");
  return `'${value.replaceAll("'", "''")}'`;
}

/** Throws unless `slug` is a valid tenant slug (the contract's one rule); returns it. */
export function assertTenantSlug(slug: unknown): string {
  const problem = typeof slug === "string" ? slugProblem(slug) : "must be a string";
  if (problem !== undefined) {
    throw new InvalidIdentifierError(`invalid tenant slug ${JSON.stringify(slug)}: ${problem}`);
  }
  return slug as string;
}

/** Throws unless `prefix` is a valid role/database prefix; returns it. */
export function assertPrefix(prefix: unknown, what = "prefix"): string {
  if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix)) {
    throw new InvalidIdentifierError(
      `invalid ${what} ${JSON.stringify(prefix)}: expected ${PREFIX_PATTERN.source}`,
    );
  }
  return prefix;
}

/** Throws unless `id` is a uuid; returns it lower-cased. */
export function assertTenantId(id: unknown): string {
  if (typeof id !== "string" || !UUID_PATTERN.test(id)) {
    throw new InvalidIdentifierError(`invalid tenant id ${JSON.stringify(id)}: expected a uuid`);
  }
  return id.toLowerCase();
}

/** Throws unless `name` is a plain lowercase SQL identifier (schemas given on the CLI). */
export function assertSchemaName(name: unknown): string {
  if (typeof name !== "string" || !/^[a-z_][a-z0-9_$]{0,62}$/.test(name)) {
    throw new InvalidIdentifierError(
      `invalid schema name ${JSON.stringify(name)}: expected a lowercase identifier`,
    );
  }
  return name;
}

function fitting(name: string, what: string): string {
  if (Buffer.byteLength(name, "utf8") > MAX_IDENTIFIER_BYTES) {
    throw new InvalidIdentifierError(
      `${what} ${JSON.stringify(name)} is longer than ${MAX_IDENTIFIER_BYTES} bytes; use a shorter prefix or slug`,
    );
  }
  return name;
}

/** `acme-corp` → `acme_corp`: the slug as it appears inside SQL identifiers. */
export function slugIdentifierPart(slug: string): string {
  return assertTenantSlug(slug).replaceAll("-", "_");
}

/** Prefix of every bridge tenant's schema. */
export const TENANT_SCHEMA_PREFIX = "tenant_";

/** Schema of a bridge tenant: `tenant_<slug_>`. */
export function tenantSchemaName(slug: string): string {
  return fitting(`${TENANT_SCHEMA_PREFIX}${slugIdentifierPart(slug)}`, "tenant schema");
}

/** True for a bridge tenant's own schema (one tenant, its own role); false for shared ones. */
export function isTenantSchemaName(schema: string): boolean {
  return schema.startsWith(TENANT_SCHEMA_PREFIX);
}

/** Login role of a schema or dedicated tenant: `<rolePrefix>_t_<slug_>`. */
export function tenantRoleName(rolePrefix: string, slug: string): string {
  return fitting(
    `${assertPrefix(rolePrefix, "role prefix")}_t_${slugIdentifierPart(slug)}`,
    "role",
  );
}

/** Dedicated database of a tenant: `<databasePrefix>_<slug_>`. */
export function tenantDatabaseName(databasePrefix: string, slug: string): string {
  return fitting(
    `${assertPrefix(databasePrefix, "database prefix")}_${slugIdentifierPart(slug)}`,
    "database",
  );
}

/** The cluster-wide roles managed by bootstrap, all derived from one prefix. */
export interface ManagedRoles {
  /** Owns schemas, tables and functions; migrations run as it. NOLOGIN. */
  readonly owner: string;
  /** The application's login role: subject to RLS, owns nothing. */
  readonly app: string;
  /** Read-only verifier: sees every row (BYPASSRLS), can change nothing. */
  readonly audit: string;
}

/** Names of the managed roles for a prefix (`tenancy` → `tenancy_owner`, `tenancy_app`, `tenancy_audit`). */
export function managedRoles(rolePrefix: string = DEFAULT_ROLE_PREFIX): ManagedRoles {
  const prefix = assertPrefix(rolePrefix, "role prefix");
  return { owner: `${prefix}_owner`, app: `${prefix}_app`, audit: `${prefix}_audit` };
}

/** `LIKE` pattern matching every tenant role of a prefix (underscores escaped). */
export function tenantRoleLikePattern(rolePrefix: string): string {
  return `${assertPrefix(rolePrefix, "role prefix").replaceAll("_", "\\_")}\\_t\\_%`;
}
