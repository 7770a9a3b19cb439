/** `tenancy:security:EncryptionKey` — a customer-managed KMS key with rotation and an alias. */
import type * as Aws from "@pulumi/aws";
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";

export interface EncryptionKeyArgs {
  /** What the key protects; shown in the KMS console. */
  readonly description: pulumi.Input<string>;
  /** Alias, starting with `alias/`. */
  readonly alias: pulumi.Input<string>;
  /**
   * Days a deleted key stays recoverable (7–30).
   * @default 30
   */
  readonly deletionWindowInDays?: number;
}

/** Settings of the key: rotation on, the longest recovery window, symmetric encryption. */
export function keySettings(args: EncryptionKeyArgs): Aws.kms.KeyArgs {
  const deletionWindowInDays = args.deletionWindowInDays ?? 30;
  if (deletionWindowInDays < 7 || deletionWindowInDays > 30) {
    throw new Error(`deletionWindowInDays must be between 7 and 30, got ${deletionWindowInDays}`);
  }
  return {
    description: args.description,
    enableKeyRotation: true,
    deletionWindowInDays,
    keyUsage: "ENCRYPT_DECRYPT",
    customerMasterKeySpec: "SYMMETRIC_DEFAULT",
    multiRegion: false,
  };
}

export class EncryptionKey extends pulumi.ComponentResource {
  public readonly keyId: pulumi.Output<string>;
  public readonly keyArn: pulumi.Output<string>;
  public readonly aliasName: pulumi.Output<string>;

  constructor(name: string, args: EncryptionKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:security:EncryptionKey", name, {}, opts);
    const aws = awsSdk();
    const key = new aws.kms.Key(`${name}-key`, keySettings(args), { parent: this });
    const alias = new aws.kms.Alias(
      `${name}-alias`,
      { name: args.alias, targetKeyId: key.keyId },
      { parent: this },
    );
    this.keyId = key.keyId;
    this.keyArn = key.arn;
    this.aliasName = alias.name;
    this.registerOutputs({ keyId: this.keyId, keyArn: this.keyArn, aliasName: this.aliasName });
  }
}
