/**
 * What the TenantDatabase dynamic provider does, as plain functions over plain objects. The
 * provider (./tenantDatabase.ts) loads this module at run time inside Pulumi's provider
 * process; nothing here is captured by closure serialization.
 */
import { createTenantDatabaseDriver } from "../drivers/index.ts";
import { readLivePlacement, type RoleAccess } from "../drivers/livePlacement.ts";
import { parseTenantDatabaseSpec, type TenantDatabaseSpec } from "../drivers/types.ts";
import {
  DEFAULT_DATABASE_PREFIX,
  DEFAULT_ROLE_PREFIX,
  DEFAULT_SHARED_SCHEMA,
} from "../identifiers.ts";
import { loadMigrationDirectory } from "../migrations/migrationSet.ts";
import { servesTenant } from "../moves/movePlacements.ts";
import type { PurgeReport } from "../purge.ts";

/** Resolved inputs of a TenantDatabase (what the engine passes the provider). */
export interface TenantDatabaseInputs {
  /** Superuser URL of the control database (secret). */
  readonly adminUrl: string;
  readonly slug: string;
  readonly mode: TenantDatabaseSpec["mode"];
  readonly quotas: TenantDatabaseSpec["quotas"];
  readonly tenantId?: string;
  readonly password?: string;
  readonly rolePrefix?: string;
  readonly databasePrefix?: string;
  readonly sharedSchema?: string;
  /** Directory of tenant migrations. @default the shipped set */
  readonly migrationsDir?: string;
}

/** State (outputs) of a TenantDatabase: the inputs plus the routing record and password. */
export interface TenantDatabaseOutputs extends TenantDatabaseInputs {
  readonly tenantId: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly schema: string;
  readonly role: string;
  readonly searchPath: string[];
  /**
   * The registry's routing version. Absent from states written before it was an output: such
   * a state is updated in place once (see {@link diffTenantDatabase}).
   */
  readonly version?: number;
  /** Tenant role password (schema/dedicated); absent for pooled tenants. Secret. */
  readonly password?: string;
  /**
   * The tenant role's privileges (CONNECT, USAGE on its schema) of a schema or dedicated
   * tenant: true when created or updated, as found on the server after a refresh. Absent for
   * pooled tenants and for state written before it was recorded.
   */
  readonly access?: RoleAccess;
}

export interface DiffOutcome {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly stables: string[];
  readonly deleteBeforeReplace: boolean;
}

const REPLACING = ["slug", "mode", "rolePrefix", "databasePrefix", "sharedSchema"] as const;
const DEFAULTS: Partial<Record<keyof TenantDatabaseInputs, string>> = {
  rolePrefix: DEFAULT_ROLE_PREFIX,
  databasePrefix: DEFAULT_DATABASE_PREFIX,
  sharedSchema: DEFAULT_SHARED_SCHEMA,
};

function valueOf(inputs: TenantDatabaseInputs, key: keyof TenantDatabaseInputs): unknown {
  return inputs[key] ?? DEFAULTS[key];
}

/**
 * Quota, password, admin URL or migration changes update in place (as does a state without
 * `version`, to record it); a slug, mode, prefix or (explicit) tenant id change replaces the
 * tenant database — deleting the old one first, since both would claim the same registry slug.
 */
export function diffTenantDatabase(
  olds: TenantDatabaseOutputs,
  news: TenantDatabaseInputs,
): DiffOutcome {
  const replaces: string[] = REPLACING.filter((k) => valueOf(olds, k) !== valueOf(news, k));
  if (news.tenantId !== undefined && news.tenantId !== olds.tenantId) replaces.push("tenantId");
  const accessLost = olds.access !== undefined && !(olds.access.connect && olds.access.schemaUsage);
  const updated =
    accessLost ||
    JSON.stringify(olds.quotas) !== JSON.stringify(news.quotas) ||
    (news.password !== undefined && news.password !== olds.password) ||
    olds.adminUrl !== news.adminUrl ||
    olds.migrationsDir !== news.migrationsDir ||
    olds.version === undefined;
  return {
    changes: replaces.length > 0 || updated,
    replaces,
    stables:
      replaces.length > 0
        ? []
        : ["tenantId", "host", "port", "database", "schema", "role", "searchPath"],
    deleteBeforeReplace: true,
  };
}

/** Validation failures for `check`. */
export function checkTenantDatabase(
  news: TenantDatabaseInputs,
): { property: string; reason: string }[] {
  const failures: { property: string; reason: string }[] = [];
  if (typeof news.adminUrl !== "string" || !/^postgres(ql)?:\/\//.test(news.adminUrl)) {
    failures.push({ property: "adminUrl", reason: "must be a postgres:// URL" });
  }
  try {
    parseTenantDatabaseSpec(specOf(news));
  } catch (error) {
    failures.push({ property: "spec", reason: (error as Error).message });
  }
  return failures;
}

function specOf(inputs: TenantDatabaseInputs, password?: string): TenantDatabaseSpec {
  return {
    slug: inputs.slug,
    mode: inputs.mode,
    quotas: inputs.quotas,
    ...(inputs.tenantId === undefined ? {} : { tenantId: inputs.tenantId }),
    ...(password === undefined ? {} : { password }),
  };
}

async function driverFor(inputs: TenantDatabaseInputs) {
  return createTenantDatabaseDriver({
    adminUrl: inputs.adminUrl,
    ...(inputs.rolePrefix === undefined ? {} : { rolePrefix: inputs.rolePrefix }),
    ...(inputs.databasePrefix === undefined ? {} : { databasePrefix: inputs.databasePrefix }),
    ...(inputs.sharedSchema === undefined ? {} : { sharedSchema: inputs.sharedSchema }),
    ...(inputs.migrationsDir === undefined
      ? {}
      : { migrations: await loadMigrationDirectory(inputs.migrationsDir) }),
  });
}

function outputsOf(
  inputs: TenantDatabaseInputs,
  result: Awaited<ReturnType<Awaited<ReturnType<typeof driverFor>>["create"]>>,
  password: string | undefined,
): TenantDatabaseOutputs {
  const r = result.routing;
  return {
    ...inputs,
    tenantId: r.tenantId,
    host: r.host,
    port: r.port,
    database: r.database,
    schema: r.schema,
    role: r.role,
    searchPath: [...r.searchPath],
    version: r.version,
    ...(password === undefined ? {} : { password }),
    // The driver grants these on create and re-grants them on update.
    ...(inputs.mode === "pool" ? {} : { access: { connect: true, schemaUsage: true } }),
  };
}

/** Creates the tenant database; the id is `<mode>/<slug>`. */
export async function createTenantDatabase(
  inputs: TenantDatabaseInputs,
): Promise<{ id: string; outs: TenantDatabaseOutputs }> {
  const driver = await driverFor(inputs);
  const result = await driver.create(specOf(inputs, inputs.password));
  return { id: `${inputs.mode}/${inputs.slug}`, outs: outputsOf(inputs, result, result.password) };
}

/** Applies quota/password changes in place. */
export async function updateTenantDatabase(
  olds: TenantDatabaseOutputs,
  news: TenantDatabaseInputs,
): Promise<{ outs: TenantDatabaseOutputs }> {
  const driver = await driverFor(news);
  // A refresh that found no role records null quotas: the role is created again, with the
  // password the state holds (a new one when the inputs give one).
  const roleLost = olds.mode !== "pool" && olds.quotas?.dbConnections === null;
  const newPassword =
    news.password !== undefined && news.password !== olds.password
      ? news.password
      : roleLost
        ? olds.password
        : undefined;
  const result = await driver.update({ ...specOf(news, newPassword), tenantId: olds.tenantId });
  return { outs: outputsOf(news, result, result.password ?? olds.password) };
}

/**
 * Refresh: the recorded state with what the server says — the quotas its role enforces and,
 * where the state records them, the role's privileges. Nothing else is read, so a refresh
 * with nothing changed out of band reports no difference.
 */
export async function readTenantDatabase(
  id: string,
  olds: TenantDatabaseOutputs,
): Promise<{ id: string; props: TenantDatabaseOutputs }> {
  const live = await readLivePlacement(olds.adminUrl, {
    slug: olds.slug,
    mode: olds.mode,
    role: olds.role,
    schema: olds.schema,
    database: olds.database,
  });
  return {
    id,
    props: {
      ...olds,
      // A dropped role's quotas read null (drift); the next update creates the role again.
      quotas: live.quotas as TenantDatabaseOutputs["quotas"],
      ...(olds.access !== undefined && live.access ? { access: live.access } : {}),
    },
  };
}

/**
 * Offboards the tenant (purge with proof); throws when anything remains. A placement the
 * tenant was moved away from (or a rolled-back move's target) is left to the move: undefined.
 */
export async function deleteTenantDatabase(
  olds: TenantDatabaseOutputs,
): Promise<PurgeReport | undefined> {
  if (!(await servesTenant(olds.adminUrl, olds.slug, olds.mode))) return undefined;
  const driver = await driverFor(olds);
  return driver.delete({ slug: olds.slug, tenantId: olds.tenantId });
}
