/**
 * What a tenant's database placement is, read from the server rather than from the registry:
 * the quotas the server enforces and the access its role really has. A refresh compares these
 * with the recorded state, so a change made out of band (a revoked grant, a connection limit
 * altered by hand) shows as drift.
 */
import pg from "pg";
import { findTenant } from "../registry.ts";
import { errorMessage, withClient, withDatabaseName } from "../transaction.ts";
import type { DatabaseMode } from "./types.ts";

/** The placement's names, as the state records them. */
export interface PlacementNames {
  readonly slug: string;
  readonly mode: DatabaseMode;
  readonly role: string;
  readonly schema: string;
  readonly database: string;
}

/** Privileges a schema or dedicated tenant's role needs and was given at creation. */
export interface RoleAccess {
  /** CONNECT on the database its schema lives in (the shared one, or its own). */
  readonly connect: boolean;
  /** USAGE on its schema (its own in the shared database, or the one of its own database). */
  readonly schemaUsage: boolean;
}

export interface LivePlacement {
  /** Quotas as enforced: the role's CONNECTION LIMIT and statement_timeout (the registry's for pool). */
  readonly quotas: {
    readonly dbConnections: number | null;
    readonly statementTimeoutMs: number | null;
  };
  /** The role's privileges; absent for a pooled tenant (it has no role of its own). */
  readonly access?: RoleAccess;
}

/** Reads the live placement of a tenant on the server of `adminUrl` (its control database). */
export async function readLivePlacement(
  adminUrl: string,
  names: PlacementNames,
): Promise<LivePlacement> {
  return withClient(pg, adminUrl, async (client) => {
    if (names.mode === "pool") {
      const row = await findTenant(client, names.slug);
      return {
        quotas: {
          dbConnections: row?.dbConnections ?? null,
          statementTimeoutMs: row?.statementTimeoutMs ?? null,
        },
      };
    }
    const { rows } = await client.query<{
      limit: number;
      timeout: string | null;
      connect: boolean;
      usage: boolean | null;
    }>(
      `SELECT r.rolconnlimit AS limit,
              (SELECT substring(c FROM '^statement_timeout=(.*)$')
                 FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) AS c
                WHERE s.setrole = r.oid AND s.setdatabase = 0 AND c LIKE 'statement_timeout=%') AS timeout,
              CASE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $2) THEN false
                   ELSE pg_catalog.has_database_privilege(r.oid, $2, 'CONNECT') END AS connect,
              CASE WHEN to_regnamespace($3) IS NULL THEN false
                   ELSE pg_catalog.has_schema_privilege(r.oid, $3, 'USAGE') END AS usage
         FROM pg_catalog.pg_roles r WHERE r.rolname = $1`,
      [names.role, names.database, names.schema],
    );
    const role = rows[0];
    if (!role) {
      // A dropped role enforces nothing and may do nothing: the state's quotas differ (drift).
      return {
        quotas: { dbConnections: null, statementTimeoutMs: null },
        access: { connect: false, schemaUsage: false },
      };
    }
    return {
      quotas: {
        dbConnections: role.limit,
        statementTimeoutMs: role.timeout === null ? null : durationMs(role.timeout),
      },
      access: {
        connect: role.connect,
        // A dedicated tenant's schema lives in its own database: asked there.
        schemaUsage:
          names.mode === "schema"
            ? Boolean(role.usage)
            : role.connect && (await schemaUsageIn(adminUrl, names)),
      },
    };
  });
}

/** Whether the role has USAGE on the schema inside the placement's own database. */
async function schemaUsageIn(adminUrl: string, names: PlacementNames): Promise<boolean> {
  try {
    return await withClient(pg, withDatabaseName(adminUrl, names.database), async (client) => {
      const { rows } = await client.query<{ usage: boolean }>(
        `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $2)
                       OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) THEN false
                     ELSE pg_catalog.has_schema_privilege($1, $2, 'USAGE') END AS usage`,
        [names.role, names.schema],
      );
      return rows[0]?.usage === true;
    });
  } catch (error) {
    // The database went away after the first read: nothing is usable in it.
    if (/does not exist/.test(errorMessage(error))) return false;
    throw error;
  }
}

const UNIT_MS: Readonly<Record<string, number>> = {
  "": 1,
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A PostgreSQL duration setting (`500ms`, `30s`, `0`) in milliseconds; NaN when unreadable. */
export function durationMs(text: string): number {
  const match = /^\s*'?(\d+)\s*(ms|s|min|h|d)?'?\s*$/.exec(text);
  if (!match) return Number.NaN;
  return Number(match[1]) * UNIT_MS[match[2] ?? ""]!;
}
