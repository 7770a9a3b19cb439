/**
 * `tenancy:identity:SharedUserPool` — the platform's Cognito user pool. Every user carries an
 * immutable `custom:tenant` attribute and belongs to its tenant's group, so tokens carry the
 * tenant claim. Deletion protection on, MFA available, strong passwords.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";

export interface SharedUserPoolArgs {
  /** Name of the user pool. */
  readonly poolName: pulumi.Input<string>;
  /**
   * MFA: `OPTIONAL` lets tenants require it per group; `ON` forces it for everyone.
   * @default "OPTIONAL"
   */
  readonly mfa?: "OPTIONAL" | "ON";
}

/** The tenant claim: `custom:tenant` in ID tokens, set at sign-up, never changed. */
export const TENANT_CLAIM_ATTRIBUTE = {
  name: "tenant",
  attributeDataType: "String",
  mutable: false,
  required: false,
  stringAttributeConstraints: { minLength: "2", maxLength: "30" },
} as const;

export const PASSWORD_POLICY = {
  minimumLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireNumbers: true,
  requireSymbols: true,
  temporaryPasswordValidityDays: 3,
} as const;

export class SharedUserPool extends pulumi.ComponentResource {
  public readonly userPoolId: pulumi.Output<string>;
  public readonly userPoolArn: pulumi.Output<string>;

  constructor(name: string, args: SharedUserPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:identity:SharedUserPool", name, {}, opts);
    const aws = awsSdk();
    const pool = new aws.cognito.UserPool(
      `${name}-pool`,
      {
        name: args.poolName,
        deletionProtection: "ACTIVE",
        mfaConfiguration: args.mfa ?? "OPTIONAL",
        softwareTokenMfaConfiguration: { enabled: true },
        passwordPolicy: PASSWORD_POLICY,
        usernameAttributes: ["email"],
        autoVerifiedAttributes: ["email"],
        schemas: [TENANT_CLAIM_ATTRIBUTE],
        adminCreateUserConfig: { allowAdminCreateUserOnly: true },
        accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
        userPoolAddOns: { advancedSecurityMode: "ENFORCED" },
      },
      { parent: this, protect: true },
    );
    this.userPoolId = pool.id;
    this.userPoolArn = pool.arn;
    this.registerOutputs({ userPoolId: this.userPoolId, userPoolArn: this.userPoolArn });
  }
}
