/**
 * `tenancy:compute:TenantAccount` — an AWS account of the tenant's own in the organization,
 * with a deployment role the platform assumes to deploy into it.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";

export interface TenantAccountArgs {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** Root e-mail of the account; `{slug}` is replaced, e.g. `aws+{slug}@example.com`. */
  readonly emailTemplate: pulumi.Input<string>;
  /** Organizational unit (or root) the account is created in. */
  readonly parentId: pulumi.Input<string>;
  /** AWS partition of the region (`aws`, `aws-us-gov`, `aws-cn`), for ARNs. */
  readonly partition: string;
  /**
   * Role created in the account for the platform's deployments.
   * @default "TenancyDeployment"
   */
  readonly deploymentRoleName?: string;
}

export function accountEmail(template: string, slug: string): string {
  if (!template.includes("{slug}")) {
    throw new Error(`account e-mail template "${template}" must contain {slug}`);
  }
  return template.replaceAll("{slug}", slug);
}

export class TenantAccount extends pulumi.ComponentResource {
  public readonly accountId: pulumi.Output<string>;
  public readonly deploymentRoleArn: pulumi.Output<string>;

  constructor(name: string, args: TenantAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:compute:TenantAccount", name, {}, opts);
    const roleName = args.deploymentRoleName ?? "TenancyDeployment";
    const aws = awsSdk();
    const account = new aws.organizations.Account(
      `${name}-account`,
      {
        name: `tenancy-${args.slug}`,
        email: pulumi.output(args.emailTemplate).apply((t) => accountEmail(t, args.slug)),
        parentId: args.parentId,
        roleName,
        iamUserAccessToBilling: "DENY",
        // Closing an account is irreversible for 90 days: never as a side effect of a destroy.
        closeOnDeletion: false,
      },
      { parent: this, protect: true },
    );
    this.accountId = account.id;
    this.deploymentRoleArn = account.id.apply(
      (id) => `arn:${args.partition}:iam::${id}:role/${roleName}`,
    );
    this.registerOutputs({ accountId: this.accountId, deploymentRoleArn: this.deploymentRoleArn });
  }
}
