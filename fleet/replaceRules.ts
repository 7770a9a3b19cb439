/**
 * Which input changes make the provider replace a resource, for the resource types the
 * components declare. Offline there is no provider to ask, so this is a curated table (from
 * the providers' schemas: properties marked "forces new resource" / immutable fields); a
 * change this table does not know about is reported as "may replace", never as a plain update.
 */

export type ChangeKind = "update" | "replace" | "may-replace";

interface TypeRule {
  /** Property paths (dotted, a prefix matches its children) whose change forces replacement. */
  readonly replaceOn: readonly string[];
  /** Paths whose change the table is unsure about ("may replace"). */
  readonly unsure?: readonly string[];
}

const kubernetesIdentity = ["apiVersion", "kind", "metadata.name", "metadata.namespace"];
const s3SubResource: TypeRule = { replaceOn: ["bucket", "expectedBucketOwner"] };

export const REPLACE_RULES: Readonly<Record<string, TypeRule>> = {
  "aws:rds/instance:Instance": {
    replaceOn: [
      "identifier",
      "identifierPrefix",
      "engine",
      "dbName",
      "username",
      "storageEncrypted",
      "kmsKeyId",
      "availabilityZone",
      "characterSetName",
      "ncharCharacterSetName",
      "timezone",
      "snapshotIdentifier",
      "replicateSourceDb",
      "restoreToPointInTime",
      "s3Import",
      "customIamInstanceProfile",
    ],
    unsure: ["dbSubnetGroupName", "storageType"],
  },
  "aws:rds/subnetGroup:SubnetGroup": { replaceOn: ["name", "namePrefix"] },
  "aws:rds/parameterGroup:ParameterGroup": {
    replaceOn: ["name", "namePrefix", "family", "description"],
  },
  "aws:s3/bucket:Bucket": { replaceOn: ["bucket", "bucketPrefix", "objectLockEnabled"] },
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": s3SubResource,
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": s3SubResource,
  "aws:s3/bucketPolicy:BucketPolicy": s3SubResource,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": s3SubResource,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
    s3SubResource,
  "aws:s3/bucketVersioning:BucketVersioning": s3SubResource,
  "aws:kms/key:Key": {
    replaceOn: [
      "customerMasterKeySpec",
      "keySpec",
      "keyUsage",
      "multiRegion",
      "customKeyStoreId",
      "xksKeyId",
    ],
  },
  "aws:kms/alias:Alias": { replaceOn: ["name", "namePrefix"] },
  "aws:iam/role:Role": { replaceOn: ["name", "namePrefix", "path"] },
  "aws:iam/policy:Policy": { replaceOn: ["name", "namePrefix", "path", "description"] },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": { replaceOn: ["role", "policyArn"] },
  "aws:secretsmanager/secret:Secret": { replaceOn: ["name", "namePrefix"] },
  "aws:secretsmanager/secretVersion:SecretVersion": {
    replaceOn: ["secretId"],
    unsure: ["secretString", "secretBinary"],
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    replaceOn: ["name", "namePrefix", "vpcId", "description"],
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": { replaceOn: ["securityGroupId"] },
  "aws:eks/nodeGroup:NodeGroup": {
    replaceOn: [
      "clusterName",
      "nodeGroupName",
      "nodeGroupNamePrefix",
      "nodeRoleArn",
      "subnetIds",
      "capacityType",
      "diskSize",
      "instanceTypes",
      "amiType",
      "remoteAccess",
    ],
  },
  "aws:organizations/account:Account": {
    replaceOn: ["email", "iamUserAccessToBilling", "roleName"],
    unsure: ["name"],
  },
  "aws:cognito/identityProvider:IdentityProvider": {
    replaceOn: ["userPoolId", "providerName", "providerType"],
  },
  "aws:cognito/userGroup:UserGroup": { replaceOn: ["name", "userPoolId"] },
  "kubernetes:core/v1:ConfigMap": { replaceOn: kubernetesIdentity },
  "kubernetes:core/v1:LimitRange": { replaceOn: kubernetesIdentity },
  "kubernetes:core/v1:Namespace": { replaceOn: kubernetesIdentity },
  "kubernetes:core/v1:ResourceQuota": { replaceOn: kubernetesIdentity },
  "kubernetes:core/v1:ServiceAccount": { replaceOn: kubernetesIdentity },
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": { replaceOn: kubernetesIdentity },
  "kubernetes:rbac.authorization.k8s.io/v1:Role": { replaceOn: kubernetesIdentity },
  // A RoleBinding's roleRef is immutable in the API server.
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": {
    replaceOn: [...kubernetesIdentity, "roleRef"],
  },
  "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy": { replaceOn: kubernetesIdentity },
  // db/pulumi/tenantDatabase.ts: slug or placement changes replace (old placement deleted first).
  "pulumi-nodejs:dynamic/tenancy:TenantDatabase": { replaceOn: ["slug", "mode"] },
};

/** Types whose replacement or deletion loses data or identity: a diff lists them first. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws:rds/instance:Instance",
  "aws:s3/bucket:Bucket",
  "aws:kms/key:Key",
  "kubernetes:core/v1:Namespace",
  "aws:organizations/account:Account",
  "pulumi-nodejs:dynamic/tenancy:TenantDatabase",
  "aws:secretsmanager/secret:Secret",
  "aws:cognito/identityProvider:IdentityProvider",
]);

/** Component resources and references have no provider: their inputs never replace anything. */
function providerless(type: string): boolean {
  return type.startsWith("tenancy:") || type === "pulumi:pulumi:StackReference";
}

function covers(rulePath: string, path: string): boolean {
  return path === rulePath || path.startsWith(`${rulePath}.`) || path.startsWith(`${rulePath}[`);
}

/** What a change of `path` (dotted, `[i]` for items) does to a resource of `type`. */
export function changeKindOf(type: string, path: string): ChangeKind {
  if (providerless(type)) return "update";
  const rule = REPLACE_RULES[type];
  if (!rule) return "may-replace";
  if (rule.replaceOn.some((p) => covers(p, path))) return "replace";
  if (rule.unsure?.some((p) => covers(p, path))) return "may-replace";
  return "update";
}

/** The strongest of several kinds: replace > may-replace > update. */
export function strongest(kinds: readonly ChangeKind[]): ChangeKind {
  if (kinds.includes("replace")) return "replace";
  if (kinds.includes("may-replace")) return "may-replace";
  return "update";
}
