/**
 * `tenancy:database:PostgresServer` — an RDS PostgreSQL instance, secure by default: encrypted
 * with a given KMS key, private, in its own subnet group, a security group admitting only the
 * given client groups, master credentials managed by RDS in Secrets Manager, TLS forced
 * (`rds.force_ssl=1`), deletion protection, backups and a final snapshot. The platform's
 * shared server and every tenant's dedicated server are one.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";

export interface PostgresServerArgs {
  /** RDS identifier; also names the subnet group, parameter group and security group. */
  readonly identifier: string;
  /** Who the server is for, shown on its parts. */
  readonly description: string;
  /** VPC of the platform. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets (at least two availability zones). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Security groups of the server's clients: the only sources admitted on the port. None
   * means nothing can connect until one is added.
   * @default []
   */
  readonly clientSecurityGroupIds?: readonly pulumi.Input<string>[];
  /** KMS key of the storage, the managed master secret and Performance Insights. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** @default "db.t4g.medium" */
  readonly instanceClass?: string;
  /** GiB. @default 50 */
  readonly allocatedStorage?: number;
  /** Storage autoscaling ceiling, GiB. @default 500 */
  readonly maxAllocatedStorage?: number;
  /** @default "16" */
  readonly engineVersion?: string;
  /** @default 14 */
  readonly backupRetentionDays?: number;
  /** @default true */
  readonly multiAz?: boolean;
  /** @default "app" */
  readonly databaseName?: string;
}

export const POSTGRES_PORT = 5432;

/** `postgres16` for `16`, `16.4`, … */
export function parameterGroupFamily(engineVersion: string): string {
  const major = /^(\d+)/.exec(engineVersion)?.[1];
  if (!major) throw new Error(`engineVersion "${engineVersion}" must start with a major version`);
  return `postgres${major}`;
}

/** Parameters every server of the platform gets: TLS only, connections logged. */
export const SERVER_PARAMETERS: readonly { name: string; value: string }[] = [
  { name: "rds.force_ssl", value: "1" },
  { name: "log_connections", value: "1" },
  { name: "log_disconnections", value: "1" },
];

/** Instance settings with defaults applied; security-relevant fields are not optional. */
export function instanceSettings(args: PostgresServerArgs) {
  const identifier = args.identifier;
  return {
    identifier,
    engine: "postgres",
    engineVersion: args.engineVersion ?? "16",
    instanceClass: args.instanceClass ?? "db.t4g.medium",
    allocatedStorage: args.allocatedStorage ?? 50,
    maxAllocatedStorage: args.maxAllocatedStorage ?? 500,
    storageType: "gp3",
    storageEncrypted: true,
    publiclyAccessible: false,
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: `${identifier}-final`,
    copyTagsToSnapshot: true,
    backupRetentionPeriod: args.backupRetentionDays ?? 14,
    multiAz: args.multiAz ?? true,
    dbName: args.databaseName ?? "app",
    username: "tenancy_admin",
    manageMasterUserPassword: true,
    iamDatabaseAuthenticationEnabled: true,
    autoMinorVersionUpgrade: true,
    performanceInsightsEnabled: true,
    enabledCloudwatchLogsExports: ["postgresql"],
    port: POSTGRES_PORT,
  } as const;
}

export class PostgresServer extends pulumi.ComponentResource {
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly databaseName: pulumi.Output<string>;
  /** Secrets Manager ARN of the RDS-managed master credentials. */
  public readonly masterSecretArn: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:database:PostgresServer", name, {}, opts);
    const settings = instanceSettings(args);
    const kmsKeyArn = pulumi.output(args.kmsKeyArn);
    const aws = awsSdk();
    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { name: settings.identifier, subnetIds: args.subnetIds, description: args.description },
      { parent: this },
    );
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        name: `${settings.identifier}-database`,
        description: `PostgreSQL of ${args.description}: listed clients only`,
        vpcId: args.vpcId,
        // No inline rules: ingress is one rule per client group below, and no egress.
        ingress: [],
        egress: [],
      },
      { parent: this },
    );
    (args.clientSecurityGroupIds ?? []).forEach((clientGroupId, index) => {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-from-workloads-${index}`,
        {
          securityGroupId: securityGroup.id,
          referencedSecurityGroupId: clientGroupId,
          ipProtocol: "tcp",
          fromPort: POSTGRES_PORT,
          toPort: POSTGRES_PORT,
          description: `clients of ${args.description}`,
        },
        { parent: this },
      );
    });
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        name: settings.identifier,
        family: parameterGroupFamily(settings.engineVersion),
        description: `${args.description}: TLS only`,
        parameters: SERVER_PARAMETERS.map((p) => ({ ...p, applyMethod: "pending-reboot" })),
      },
      { parent: this },
    );
    const instance = new aws.rds.Instance(
      `${name}-instance`,
      {
        ...settings,
        enabledCloudwatchLogsExports: [...settings.enabledCloudwatchLogsExports],
        kmsKeyId: kmsKeyArn,
        masterUserSecretKmsKeyId: kmsKeyArn,
        performanceInsightsKmsKeyId: kmsKeyArn,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [securityGroup.id],
        parameterGroupName: parameterGroup.name,
      },
      { parent: this },
    );
    this.host = instance.address;
    this.port = instance.port;
    this.databaseName = instance.dbName;
    this.masterSecretArn = instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn) throw new Error(`database ${args.identifier} has no managed master secret`);
      return arn;
    });
    this.kmsKeyArn = kmsKeyArn;
    this.securityGroupId = securityGroup.id;
    this.registerOutputs({
      host: this.host,
      port: this.port,
      masterSecretArn: this.masterSecretArn,
      kmsKeyArn: this.kmsKeyArn,
      securityGroupId: this.securityGroupId,
    });
  }
}
