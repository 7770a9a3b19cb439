/**
 * Idempotent bootstrap of a database that holds tenant data: managed roles (cluster-wide),
 * the platform schema with the tenant-context functions and the tenant registry, the shared
 * application schema, grants and default privileges. Safe to re-run; it converges drift.
 */
import { CONTEXT_FUNCTIONS_SQL } from "./contextSql.ts";
import { writeContextKey } from "./contextKeys.ts";
import { assertSigningKey, type ContextSigningKey } from "./contextSigning.ts";
import {
  DEFAULT_ROLE_PREFIX,
  DEFAULT_SHARED_SCHEMA,
  PLATFORM_SCHEMA,
  assertSchemaName,
  managedRoles,
  quoteIdent,
  type ManagedRoles,
} from "./identifiers.ts";
import { LEDGER_TABLE } from "./migrations/ledger.ts";
import { MOVE_STATE_SQL, RETIRED_PLACEMENTS_SQL } from "./moves/moveSchemaSql.ts";
import { protectTables } from "./protect.ts";
import { REGISTRY_TABLE_SQL } from "./registry.ts";
import {
  ensureRole,
  grantSetRoleToCurrentUser,
  setRoleSearchPath,
  type RoleSpec,
} from "./roles.ts";
import {
  CONTEXT_KEYS,
  DROP_SIGNED_CONTEXT_SQL,
  SIGNED_CONTEXT_SQL,
  SIGNED_MODE_SQL,
} from "./signedContextSql.ts";
import { inTransaction, type Queryable } from "./transaction.ts";
import { USAGE_FLUSH_SQL } from "./usage/usageSql.ts";

export interface BootstrapOptions {
  /** Prefix of the managed roles. @default "tenancy" */
  readonly rolePrefix?: string;
  /** Schema of the pooled application tables. @default "app" */
  readonly sharedSchema?: string;
  /** Password of the application role; an existing one is kept when omitted. */
  readonly appPassword?: string;
  /** Password of the audit role; an existing one is kept when omitted. */
  readonly auditPassword?: string;
  /**
   * Roles that get USAGE on the shared schema and DML on its tables. A dedicated tenant
   * database passes its tenant role here. @default [the application role]
   */
  readonly applicationRoles?: readonly string[];
  /** Create the tenant registry (only the control database needs it). @default true */
  readonly registry?: boolean;
  /**
   * Revoke CONNECT/TEMPORARY on the database from PUBLIC, so only the roles granted below
   * (audit, application roles) and the administrator may connect. @default true
   */
  readonly revokePublicConnect?: boolean;
  /**
   * The signed tenant context for the shared schemas (db/signedContextSql.ts). `true` creates
   * the key table and the verifier functions and rewrites the policies of every shared-schema
   * table to the signed form (bridge schemas `tenant_*` keep the plain form); `false` rewrites
   * them back to the plain form and drops the key table (keys included) and the functions;
   * omitted keeps the database's current mode. A fresh database is plain.
   */
  readonly signedContext?: boolean;
  /** Keys to add (or replace, by id) in `tenancy.context_keys`; needs signed mode. */
  readonly contextKeys?: readonly ContextSigningKey[];
}

export interface BootstrapResult {
  readonly roles: ManagedRoles;
  readonly platformSchema: string;
  readonly sharedSchema: string;
  readonly applicationRoles: readonly string[];
  /** Roles created by this run (empty on a re-run). */
  readonly createdRoles: readonly string[];
  /** Whether the database runs the signed tenant context after this run. */
  readonly signedContext: boolean;
}

const DML = "SELECT, INSERT, UPDATE, DELETE";

/**
 * Bootstraps the connected database. Runs in one transaction; the connected role must be a
 * superuser (local target) or hold CREATEROLE and BYPASSRLS (managed services).
 */
export async function bootstrapDatabase(
  client: Queryable,
  options: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const roles = managedRoles(options.rolePrefix ?? DEFAULT_ROLE_PREFIX);
  const shared = assertSchemaName(options.sharedSchema ?? DEFAULT_SHARED_SCHEMA);
  const appRoles = options.applicationRoles ?? [roles.app];
  const q = {
    owner: quoteIdent(roles.owner),
    audit: quoteIdent(roles.audit),
    platform: quoteIdent(PLATFORM_SCHEMA),
    shared: quoteIdent(shared),
  };
  return inTransaction(client, async () => {
    await client.query("SELECT pg_advisory_xact_lock(pg_catalog.hashtext('tenancy.bootstrap'))");
    const created: string[] = [];
    const base = ["NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION"] as const;
    const withPassword = (password: string | undefined) =>
      password === undefined ? {} : { password };
    const specs: RoleSpec[] = [
      { name: roles.owner, attributes: ["NOLOGIN", "NOINHERIT", "NOBYPASSRLS", ...base] },
      {
        name: roles.app,
        attributes: ["LOGIN", "NOINHERIT", "NOBYPASSRLS", ...base],
        ...withPassword(options.appPassword),
      },
      {
        name: roles.audit,
        attributes: ["LOGIN", "INHERIT", "BYPASSRLS", ...base],
        ...withPassword(options.auditPassword),
      },
    ];
    for (const spec of specs) {
      if (await ensureRole(client, spec)) created.push(spec.name);
    }
    await setRoleSearchPath(client, roles.app, shared);
    await client.query(`GRANT pg_read_all_data TO ${q.audit}`);
    await grantSetRoleToCurrentUser(client, roles.owner);
    await grantSetRoleToCurrentUser(client, roles.audit);

    const database = quoteIdent(await currentDatabase(client));
    if (options.revokePublicConnect ?? true) {
      await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${database} FROM PUBLIC`);
      await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${database} TO CURRENT_USER`);
    }
    await client.query(
      `GRANT CONNECT ON DATABASE ${database} TO ${[roles.audit, ...appRoles].map(quoteIdent).join(", ")}`,
    );

    for (const schema of [q.platform, q.shared]) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${q.owner}`);
      await client.query(`ALTER SCHEMA ${schema} OWNER TO ${q.owner}`);
      await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
    }
    // Every role evaluating a policy needs the context functions; they expose nothing else.
    await client.query(`GRANT USAGE ON SCHEMA ${q.platform} TO PUBLIC`);

    await client.query(`SET LOCAL ROLE ${q.owner}`);
    await client.query(CONTEXT_FUNCTIONS_SQL);
    await client.query(RETIRED_PLACEMENTS_SQL);
    await client.query(USAGE_FLUSH_SQL);
    if (options.registry ?? true) {
      await client.query(REGISTRY_TABLE_SQL);
      await client.query(MOVE_STATE_SQL);
      // Nobody but the owner (and the audit role) reads the registry: from the application
      // role an SQL injection would otherwise list every tenant's id, the one value needed
      // to set another tenant's context. Revoked again on re-bootstrap (older grants).
      await client.query(`REVOKE ALL ON ${q.platform}.tenants FROM PUBLIC`);
      await client.query(`REVOKE ALL ON ${q.platform}.tenants FROM ${quoteIdent(roles.app)}`);
    }
    await grantApplicationAccess(client, roles.owner, shared, appRoles);
    const signed = await convergeSignedContext(client, options, [roles.app, ...appRoles]);
    await client.query("RESET ROLE");
    if (options.signedContext === false) {
      await protectTables(client); // back to the plain policies before the functions go
      await client.query(`SET LOCAL ROLE ${q.owner}`);
      await client.query(DROP_SIGNED_CONTEXT_SQL);
      await client.query("RESET ROLE");
    } else if (options.signedContext === true) {
      await protectTables(client);
    }
    return {
      roles,
      platformSchema: PLATFORM_SCHEMA,
      sharedSchema: shared,
      applicationRoles: appRoles,
      createdRoles: created,
      signedContext: signed,
    };
  });
}

/**
 * Signed-context objects and keys, run as the owner role; returns whether signed mode is on.
 * Nobody but the owner gets any privilege on the key table, also after a re-bootstrap.
 */
async function convergeSignedContext(
  client: Queryable,
  options: BootstrapOptions,
  appRoles: readonly string[],
): Promise<boolean> {
  const keys = (options.contextKeys ?? []).map(assertSigningKey);
  if (options.signedContext === false) {
    if (keys.length > 0) throw new Error("contextKeys given with signedContext: false");
    await client.query(`DROP TABLE IF EXISTS ${CONTEXT_KEYS}`);
    return false;
  }
  if (options.signedContext === true) await client.query(SIGNED_CONTEXT_SQL);
  const signed = (await client.query<{ signed: boolean }>(SIGNED_MODE_SQL)).rows[0]?.signed;
  if (!signed) {
    if (keys.length > 0)
      throw new Error("contextKeys need the signed tenant context (signedContext: true)");
    return false;
  }
  const grantees = [...new Set(appRoles)].map(quoteIdent).join(", ");
  await client.query(`REVOKE ALL ON ${CONTEXT_KEYS} FROM PUBLIC, ${grantees}`);
  for (const key of keys) await writeContextKey(client, key);
  return true;
}

/**
 * USAGE on `schema`, DML on its tables and sequences (existing and, via default privileges,
 * future ones created by the owner role) for `grantees`. Run as the owner role.
 */
export async function grantApplicationAccess(
  client: Queryable,
  owner: string,
  schema: string,
  grantees: readonly string[],
): Promise<void> {
  if (grantees.length === 0) return;
  const to = grantees.map(quoteIdent).join(", ");
  const s = quoteIdent(schema);
  const o = quoteIdent(owner);
  await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${to}`);
  await client.query(`GRANT ${DML} ON ALL TABLES IN SCHEMA ${s} TO ${to}`);
  await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${to}`);
  // ...but never the migration ledger: a changed checksum there stops every deployment.
  const ledger = await client.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [
    `${s}.${quoteIdent(LEDGER_TABLE)}`,
  ]);
  if (ledger.rows[0]?.ok) {
    await client.query(`REVOKE ALL ON ${s}.${quoteIdent(LEDGER_TABLE)} FROM ${to}`);
  }
  await client.query(
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT ${DML} ON TABLES TO ${to}`,
  );
  await client.query(
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${to}`,
  );
}

async function currentDatabase(client: Queryable): Promise<string> {
  const { rows } = await client.query<{ db: string }>("SELECT current_database() AS db");
  const name = rows[0]?.db;
  if (!name) throw new Error("could not determine the current database");
  return name;
}
