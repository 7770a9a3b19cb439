/** Options resolved once for all drivers: names, server address, migration set. */
import { randomBytes } from "node:crypto";
import { assertNever, type DatabaseMode } from "../../contract/modes.ts";
import {
  DEFAULT_DATABASE_PREFIX,
  DEFAULT_ROLE_PREFIX,
  DEFAULT_SHARED_SCHEMA,
  assertPrefix,
  assertSchemaName,
  managedRoles,
  tenantDatabaseName,
  tenantRoleName,
  tenantSchemaName,
  type ManagedRoles,
} from "../identifiers.ts";
import {
  DEFAULT_MIGRATIONS_DIR,
  loadMigrationDirectory,
  type TenantMigration,
} from "../migrations/migrationSet.ts";
import type { RegistryRow } from "../registry.ts";
import { redactUrl } from "../transaction.ts";
import type { DriverOptions, TenantRouting } from "./types.ts";

export interface DriverContext {
  readonly adminUrl: string;
  readonly rolePrefix: string;
  readonly databasePrefix: string;
  readonly sharedSchema: string;
  readonly roles: ManagedRoles;
  readonly host: string;
  readonly port: number;
  /** The control database (holds the registry and pooled tenants). */
  readonly controlDatabase: string;
  migrations(): Promise<readonly TenantMigration[]>;
  names(slug: string): { schema: string; role: string; database: string };
}

/** Resolves driver options; throws on an unusable admin URL or prefix. */
export function driverContext(options: DriverOptions): DriverContext {
  let url: URL;
  try {
    url = new URL(options.adminUrl);
  } catch {
    throw new Error(`invalid admin database URL ${redactUrl(options.adminUrl)}`);
  }
  const controlDatabase = decodeURIComponent(url.pathname.slice(1)) || "postgres";
  const rolePrefix = assertPrefix(options.rolePrefix ?? DEFAULT_ROLE_PREFIX, "role prefix");
  const databasePrefix = assertPrefix(
    options.databasePrefix ?? DEFAULT_DATABASE_PREFIX,
    "database prefix",
  );
  let loaded: Promise<readonly TenantMigration[]> | undefined;
  return {
    adminUrl: options.adminUrl,
    rolePrefix,
    databasePrefix,
    sharedSchema: assertSchemaName(options.sharedSchema ?? DEFAULT_SHARED_SCHEMA),
    roles: managedRoles(rolePrefix),
    host: url.hostname,
    port: Number(url.port || 5432),
    controlDatabase,
    migrations: () =>
      options.migrations
        ? Promise.resolve(options.migrations)
        : (loaded ??= loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR)),
    names: (slug) => ({
      schema: tenantSchemaName(slug),
      role: tenantRoleName(rolePrefix, slug),
      database: tenantDatabaseName(databasePrefix, slug),
    }),
  };
}

/** Where a tenant of a mode is registered: its schema, login role and database. */
export interface Placement {
  readonly mode: DatabaseMode;
  readonly schemaName: string;
  readonly roleName: string;
  readonly databaseName: string;
}

/**
 * The names a tenant of `mode` gets. Pure: the drivers register exactly these, and the
 * offline planner answers with them (stacks/planning/plannedState.ts), so a plan cannot
 * name a role the driver would not create.
 *
 * One case per mode, alike in shape on purpose: the switch is the table of names.
 */
export function placementOf(context: DriverContext, mode: DatabaseMode, slug: string): Placement {
  switch (mode) {
    case "pool":
      return {
        mode,
        schemaName: context.sharedSchema,
        roleName: context.roles.app,
        databaseName: context.controlDatabase,
      };
    case "schema": {
      const names = context.names(slug);
      return {
        mode,
        schemaName: names.schema,
        roleName: names.role,
        databaseName: context.controlDatabase,
      };
    }
    case "dedicated": {
      const names = context.names(slug);
      return {
        mode,
        schemaName: context.sharedSchema,
        roleName: names.role,
        databaseName: names.database,
      };
    }
    default:
      return assertNever(mode, "database mode");
  }
}

/** The routing record of a registered tenant. */
export function routingFor(context: DriverContext, row: RegistryRow): TenantRouting {
  return {
    slug: row.slug,
    tenantId: row.id,
    mode: row.mode,
    host: context.host,
    port: context.port,
    database: row.databaseName,
    schema: row.schemaName,
    role: row.roleName,
    searchPath: [row.schemaName],
    quotas: { dbConnections: row.dbConnections, statementTimeoutMs: row.statementTimeoutMs },
    version: row.routingVersion,
  };
}

/** A random password for a tenant role (24 bytes, URL-safe). */
export function generatePassword(): string {
  return randomBytes(24).toString("base64url");
}
