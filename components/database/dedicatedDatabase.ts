/**
 * `tenancy:database:DedicatedDatabase` — the RDS instance of one tenant (database mode
 * `dedicated` on `aws`): a {@link PostgresServer} encrypted with the tenant's own KMS key —
 * the key given (encryption `dedicated`) or one made for the database — that admits only the
 * tenant's workloads.
 */
import * as pulumi from "@pulumi/pulumi";
import { tenantKeyAlias } from "../naming.ts";
import { EncryptionKey } from "../security/encryptionKey.ts";
import { PostgresServer, type PostgresServerArgs } from "./postgresServer.ts";

export interface DedicatedDatabaseArgs extends Omit<
  PostgresServerArgs,
  "identifier" | "description" | "kmsKeyArn"
> {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** The tenant's own KMS key; when absent the database gets a key of its own. */
  readonly kmsKeyArn?: pulumi.Input<string>;
}

export function dedicatedIdentifier(slug: string): string {
  return `tenancy-${slug}`;
}

export class DedicatedDatabase extends pulumi.ComponentResource {
  /** The tenant's RDS instance: host, port, database, master secret, security group. */
  public readonly server: PostgresServer;
  public readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: DedicatedDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:database:DedicatedDatabase", name, {}, opts);
    const { slug, kmsKeyArn, ...server } = args;
    const key =
      kmsKeyArn !== undefined
        ? pulumi.output(kmsKeyArn)
        : new EncryptionKey(
            `${name}-kms`,
            {
              description: `Database of tenant ${slug}`,
              alias: `${tenantKeyAlias(slug)}-database`,
            },
            { parent: this },
          ).keyArn;
    this.server = new PostgresServer(
      `${name}-pg`,
      {
        ...server,
        identifier: dedicatedIdentifier(slug),
        description: `tenant ${slug}`,
        kmsKeyArn: key,
      },
      { parent: this },
    );
    this.kmsKeyArn = key;
    this.registerOutputs({ host: this.server.host, masterSecretArn: this.server.masterSecretArn });
  }
}
