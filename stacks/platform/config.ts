/**
 * Reads the platform stack's configuration (`tenancy:*`), validated with zod. The region
 * comes from `tenancy:region` or the stack name `platform-<region>`.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { regionSchema } from "../../contract/tenantFields.ts";
import type { PlatformProgramInputs } from "./program.ts";

const id = z.string().min(1);
const quantity = z.string().min(1);

export const platformConfigSchema = z.strictObject({
  region: regionSchema,
  vpcId: id,
  vpcCidr: id,
  privateSubnetIds: z.array(id).min(2, "needs subnets in at least two availability zones"),
  clusterName: id,
  clusterOidcProviderArn: id,
  nodeRoleArn: id,
  nodeSubnetIds: z.array(id).min(1).optional(),
  bucketNamePrefix: id,
  costCenter: id.optional(),
  accounts: z.strictObject({ parentId: id, emailTemplate: id.includes("{slug}") }).optional(),
  database: z
    .strictObject({
      instanceClass: id.optional(),
      allocatedStorage: z.int().min(20).optional(),
      maxAllocatedStorage: z.int().min(20).optional(),
      engineVersion: id.optional(),
      backupRetentionDays: z.int().min(1).max(35).optional(),
      multiAz: z.boolean().optional(),
    })
    .optional(),
  poolQuotas: z
    .strictObject({ cpu: quantity, memory: quantity, pods: z.int().min(1).optional() })
    .optional(),
  ingressNamespace: id.optional(),
});

const PLATFORM_STACK = /^platform(?:-([a-z]{2}(?:-gov)?-[a-z]+-\d))?$/;

export function regionOfPlatformStack(stack: string): string | undefined {
  const match = PLATFORM_STACK.exec(stack);
  if (!match)
    throw new Error(
      `stack "${stack}" is not a platform stack: name it platform or platform-<region>`,
    );
  return match[1];
}

const KEYS = Object.keys(platformConfigSchema.shape) as (keyof z.infer<
  typeof platformConfigSchema
>)[];
const OBJECT_KEYS = new Set([
  "privateSubnetIds",
  "nodeSubnetIds",
  "accounts",
  "database",
  "poolQuotas",
]);

export function readPlatformConfig(stack: string = pulumi.getStack()): PlatformProgramInputs {
  const config = new pulumi.Config("tenancy");
  const raw: Record<string, unknown> = { region: regionOfPlatformStack(stack) };
  for (const key of KEYS) {
    const value = OBJECT_KEYS.has(key) ? config.getObject<unknown>(key) : config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  const result = platformConfigSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map(
      (i) => `tenancy:${i.path.join(".") || "(root)"}: ${i.message}`,
    );
    throw new Error(`platform stack ${stack} is misconfigured:\n  ${issues.join("\n  ")}`);
  }
  return result.data;
}
