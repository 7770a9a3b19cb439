/**
 * `tenancy:database:TenantDatabase` — the database layer of one tenant.
 *
 * - `pool`: a registration on the shared server (tenant row, RLS), no login role of its own.
 * - `schema`: a schema and a login role with grants on the shared server.
 * - `dedicated`: on `aws` a {@link DedicatedDatabase} (RDS instance) of its own; on `local` a
 *   database of its own on the local server.
 *
 * The objects inside PostgreSQL come from the injected {@link InDatabaseProvisioner}. On
 * `aws` the tenant role's password is kept in Secrets Manager, never in the routing record.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import {
  assertNever,
  type DatabaseMode,
  type DatabaseRouting,
  type Target,
} from "../../contract/index.ts";
import { tenantSecretName } from "../naming.ts";
import { DedicatedDatabase, type DedicatedDatabaseArgs } from "./dedicatedDatabase.ts";
import type { InDatabaseProvisioner } from "./inDatabaseProvisioner.ts";
import { adminUrlFromSecret } from "./postgresUrl.ts";

export interface TenantDatabaseArgs {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** Isolation mode of this layer, from the resolved catalog spec. */
  readonly mode: DatabaseMode;
  /** Where the stack deploys: `aws`, or `local` (database layer only). */
  readonly target: Target;
  /** Connection limit and statement timeout of the tenant's role (from the catalog). */
  readonly quotas: { readonly dbConnections: number; readonly statementTimeoutMs: number };
  /** Creates the in-database objects (the `db/` dynamic resource in stacks). */
  readonly provisioner: InDatabaseProvisioner;
  /** Superuser URL of the shared server (secret): the platform's RDS, or the local server. */
  readonly sharedAdminUrl: pulumi.Input<string>;
  /** Network and sizing of the dedicated server; required for `dedicated` on `aws`. */
  readonly dedicatedServer?: Omit<DedicatedDatabaseArgs, "slug">;
  /** KMS key encrypting the tenant's database secret in Secrets Manager (`aws`). */
  readonly secretKmsKeyArn?: pulumi.Input<string>;
}

export type DatabasePlacement = "shared-server" | "dedicated-server" | "database-on-shared-server";

/** Where a tenant's data goes for a mode on a target. */
export function databasePlacement(mode: DatabaseMode, target: Target): DatabasePlacement {
  switch (mode) {
    case "pool":
    case "schema":
      return "shared-server";
    case "dedicated":
      return target === "aws" ? "dedicated-server" : "database-on-shared-server";
    default:
      return assertNever(mode, "database mode");
  }
}

/** Whether the tenant has a login role (and so a password to keep) of its own. */
export function hasOwnRole(mode: DatabaseMode): boolean {
  switch (mode) {
    case "pool":
      return false;
    case "schema":
    case "dedicated":
      return true;
    default:
      return assertNever(mode, "database mode");
  }
}

export class TenantDatabase extends pulumi.ComponentResource {
  public readonly mode: DatabaseMode;
  public readonly placement: DatabasePlacement;
  public readonly routing: pulumi.Output<DatabaseRouting>;
  /** The tenant role's password (secret); undefined for pooled tenants. */
  public readonly password: pulumi.Output<string | undefined>;
  /** The dedicated server, when there is one. */
  public readonly server?: DedicatedDatabase;

  constructor(name: string, args: TenantDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:database:TenantDatabase", name, {}, opts);
    const placement = databasePlacement(args.mode, args.target);
    let adminUrl: pulumi.Input<string> = args.sharedAdminUrl;
    if (placement === "dedicated-server") {
      if (!args.dedicatedServer) {
        throw new pulumi.ResourceError(
          `tenant ${args.slug}: database mode "dedicated" on target aws needs dedicatedServer (VPC and subnets from the platform stack)`,
          this,
        );
      }
      this.server = new DedicatedDatabase(
        `${name}-dedicated`,
        { ...args.dedicatedServer, slug: args.slug },
        { parent: this },
      );
      const { server } = this.server;
      adminUrl = adminUrlFromSecret(
        server.masterSecretArn,
        pulumi
          .all([server.host, server.port, server.databaseName])
          .apply(([host, port, database]) => ({ host, port, database })),
        { parent: this },
      );
    }
    const objects = args.provisioner(
      `${name}-objects`,
      {
        slug: args.slug,
        mode: args.mode,
        adminUrl: pulumi.secret(adminUrl),
        quotas: {
          dbConnections: args.quotas.dbConnections,
          statementTimeoutMs: args.quotas.statementTimeoutMs,
        },
      },
      { parent: this },
    );
    let secretRef: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (args.target === "aws" && hasOwnRole(args.mode)) {
      const aws = awsSdk();
      const secret = new aws.secretsmanager.Secret(
        `${name}-credentials`,
        {
          name: tenantSecretName(args.slug, "database"),
          description: `Database login of tenant ${args.slug}`,
          recoveryWindowInDays: 30,
          ...(args.secretKmsKeyArn !== undefined ? { kmsKeyId: args.secretKmsKeyArn } : {}),
        },
        { parent: this },
      );
      new aws.secretsmanager.SecretVersion(
        `${name}-credentials`,
        {
          secretId: secret.id,
          secretString: pulumi.secret(
            pulumi
              .all([objects.routing, objects.password])
              .apply(([routing, password]) =>
                JSON.stringify({ ...routing, password: password ?? null }),
              ),
          ),
        },
        { parent: this },
      );
      secretRef = secret.arn;
    } else if (hasOwnRole(args.mode)) {
      secretRef = pulumi.output("stack-output:databasePassword");
    }
    this.mode = args.mode;
    this.placement = placement;
    this.password = pulumi.secret(objects.password);
    this.routing = pulumi.all([objects.routing, secretRef]).apply(([routing, ref]) => ({
      ...routing,
      mode: args.mode,
      ...(ref === undefined ? {} : { secretRef: ref }),
    }));
    this.registerOutputs({ routing: this.routing });
  }
}
