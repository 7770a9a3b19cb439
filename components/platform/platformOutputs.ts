/**
 * The platform stack's outputs: the contract tenant stacks read through a StackReference.
 * Validated with zod where they are read, so a tenant stack fails with the missing key's name
 * instead of deploying half-wired infrastructure.
 */
import { z } from "zod";

const id = z.string().min(1);

export const platformOutputsSchema = z.object({
  region: id,
  partition: id,
  vpcId: id,
  vpcCidr: id,
  privateSubnetIds: z.array(id).min(1),
  clusterName: id,
  clusterOidcProviderArn: id,
  clusterOidcIssuer: id,
  clusterSecurityGroupId: id,
  nodeRoleArn: id,
  nodeSubnetIds: z.array(id).min(1),
  /** Kubeconfig of the cluster (exec credentials, no secrets inside). */
  kubeconfig: id,
  poolNamespace: id,
  poolServiceAccount: id,
  ingressNamespace: id,
  platformKeyArn: id,
  sharedBucketName: id,
  bucketNamePrefix: id,
  databaseHost: id,
  databasePort: z.number().int(),
  databaseName: id,
  /** Secrets Manager ARN of the shared server's master credentials. */
  databaseAdminSecretArn: id,
  userPoolId: id,
  accountsParentId: id.optional(),
  accountEmailTemplate: id.optional(),
});

export type PlatformOutputs = z.infer<typeof platformOutputsSchema>;

/** Parses StackReference outputs; the error names every missing or malformed key. */
export function parsePlatformOutputs(outputs: unknown, stackName: string): PlatformOutputs {
  const result = platformOutputsSchema.safeParse(outputs);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  throw new Error(
    `platform stack ${stackName} has unusable outputs (${problems}); run \`pulumi up\` on it first`,
  );
}
