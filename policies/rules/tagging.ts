/**
 * Every taggable AWS resource carries the system tags, every Kubernetes object the system
 * labels; in a tenant stack they name that tenant.
 */
import { REQUIRED_LABEL_KEYS, REQUIRED_TAG_KEYS, TENANT_LABEL } from "../../components/tagKeys.ts";
import { isKubernetes, labelsOf, tagsOf, tenantOfSubject, type Subject } from "../subject.ts";

/**
 * AWS resource types the platform creates that take tags. The stack transformation detects
 * taggability from the SDK; this list is what the engine-side check relies on, and a test
 * keeps the two in agreement.
 */
export const TAGGABLE_AWS_TYPES: ReadonlySet<string> = new Set([
  "aws:cognito/userPool:UserPool",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:iam/policy:Policy",
  "aws:iam/role:Role",
  "aws:kms/key:Key",
  "aws:organizations/account:Account",
  "aws:rds/instance:Instance",
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:s3/bucket:Bucket",
  "aws:secretsmanager/secret:Secret",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
]);

/** Tags/labels every resource carries in any stack; tenant stacks need all required keys. */
const PLATFORM_TAG_KEYS = ["managed-by", "cost-center"] as const;

export function taggingViolations(subject: Subject): string[] {
  const tenant = tenantOfSubject(subject);
  if (
    TAGGABLE_AWS_TYPES.has(subject.type) ||
    (subject.type.startsWith("aws:") && "tags" in subject.props)
  ) {
    return missing(
      tagsOf(subject),
      tenant ? REQUIRED_TAG_KEYS : PLATFORM_TAG_KEYS,
      "tenant",
      tenant,
      "tag",
    );
  }
  if (isKubernetes(subject.type)) {
    const keys = tenant
      ? REQUIRED_LABEL_KEYS
      : (["app.kubernetes.io/managed-by", "tenancy.io/cost-center"] as const);
    return missing(labelsOf(subject), keys, TENANT_LABEL, tenant, "label");
  }
  return [];
}

function missing(
  values: Record<string, unknown>,
  keys: readonly string[],
  tenantKey: string,
  tenant: string | undefined,
  what: "tag" | "label",
): string[] {
  const problems = keys
    .filter((key) => typeof values[key] !== "string" || values[key] === "")
    .map((key) => `missing ${what} "${key}"`);
  if (
    tenant !== undefined &&
    typeof values[tenantKey] === "string" &&
    values[tenantKey] !== tenant
  ) {
    problems.push(
      `${what} "${tenantKey}" is "${String(values[tenantKey])}" in the stack of tenant ${tenant}`,
    );
  }
  return problems;
}
