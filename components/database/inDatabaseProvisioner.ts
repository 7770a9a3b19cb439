/**
 * The seam between the database components and the objects inside PostgreSQL (schema, login
 * role, grants, connection limit, statement timeout, RLS registration). Those are created by
 * a Pulumi dynamic resource that wraps the tested SQL drivers of `db/`; the stack program
 * injects it, tests inject an observer. Components never import `db/`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseMode, DatabaseRouting } from "../../contract/index.ts";

export interface InDatabaseRequest {
  readonly slug: string;
  readonly mode: DatabaseMode;
  /** Superuser URL of the server the tenant lives on (a secret Output). */
  readonly adminUrl: pulumi.Input<string>;
  readonly quotas: {
    readonly dbConnections: number;
    readonly statementTimeoutMs: number;
  };
}

/** Where the tenant's data lives, as the in-database objects report it (no secrets). */
export type InDatabaseRouting = Omit<DatabaseRouting, "mode" | "secretRef">;

export interface InDatabaseObjects {
  /** The resource holding the objects (for dependsOn and the resource list). */
  readonly resource: pulumi.Resource;
  readonly routing: pulumi.Output<InDatabaseRouting>;
  /** Password of the tenant's own login role (schema/dedicated), as a secret. */
  readonly password: pulumi.Output<string | undefined>;
}

/**
 * Declares the in-database objects of one tenant. Called once per tenant, with
 * `opts.parent` set to the calling component; the resource must be named `name`.
 */
export type InDatabaseProvisioner = (
  name: string,
  request: InDatabaseRequest,
  opts: pulumi.CustomResourceOptions,
) => InDatabaseObjects;

/** The routing outputs of a resource holding in-database objects, as one record. */
export function routingOf(objects: {
  readonly [K in keyof InDatabaseRouting]: pulumi.Output<InDatabaseRouting[K]>;
}): pulumi.Output<InDatabaseRouting> {
  return pulumi
    .all([
      objects.tenantId,
      objects.host,
      objects.port,
      objects.database,
      objects.schema,
      objects.role,
      objects.version,
    ])
    .apply(([tenantId, host, port, database, schema, role, version]) => ({
      tenantId,
      host,
      port,
      database,
      schema,
      role,
      version,
    }));
}
