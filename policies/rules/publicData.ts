/** No database or bucket is reachable from the internet. */
import { record, type Subject } from "../subject.ts";

const PUBLIC_ACLS = new Set(["public-read", "public-read-write", "authenticated-read"]);
const WORLD = new Set(["0.0.0.0/0", "::/0"]);
const PUBLIC_ACCESS_SWITCHES = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

export function publicDataViolations(subject: Subject): string[] {
  const p = subject.props;
  switch (subject.type) {
    case "aws:rds/instance:Instance":
    case "aws:rds/cluster:Cluster":
      return p["publiclyAccessible"] === true ? ["database is publicly accessible"] : [];
    case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
      return PUBLIC_ACCESS_SWITCHES.filter((key) => p[key] !== true).map(
        (key) => `public access block leaves ${key} off`,
      );
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketAcl:BucketAcl":
    case "aws:s3/bucketAclV2:BucketAclV2":
      return typeof p["acl"] === "string" && PUBLIC_ACLS.has(p["acl"])
        ? [`bucket ACL "${p["acl"]}" is public`]
        : [];
    case "aws:s3/bucketPolicy:BucketPolicy":
      return publicPolicyStatements(p["policy"]).map(
        (sid) => `bucket policy statement ${sid} allows everyone`,
      );
    case "aws:ec2/securityGroup:SecurityGroup":
      return asArray(p["ingress"]).flatMap((rule) =>
        [...asArray(record(rule)["cidrBlocks"]), ...asArray(record(rule)["ipv6CidrBlocks"])]
          .filter((cidr) => typeof cidr === "string" && WORLD.has(cidr))
          .map((cidr) => `security group admits ${String(cidr)}`),
      );
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
    case "aws:ec2/securityGroupRule:SecurityGroupRule": {
      if (subject.type.endsWith("SecurityGroupRule") && p["type"] !== "ingress") return [];
      const cidrs = [p["cidrIpv4"], p["cidrIpv6"], ...asArray(p["cidrBlocks"])];
      return cidrs
        .filter((cidr) => typeof cidr === "string" && WORLD.has(cidr))
        .map((cidr) => `ingress rule admits ${String(cidr)}`);
    }
    default:
      return [];
  }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Sids (or indexes) of Allow statements for principal `*` without any condition. */
export function publicPolicyStatements(policy: unknown): string[] {
  let document: unknown = policy;
  if (typeof policy === "string") {
    try {
      document = JSON.parse(policy);
    } catch {
      return [];
    }
  }
  const statements = record(document)["Statement"];
  return asArray(Array.isArray(statements) ? statements : [statements]).flatMap((raw, index) => {
    const s = record(raw);
    const principal = s["Principal"];
    const everyone =
      principal === "*" ||
      asArray(record(principal)["AWS"]).includes("*") ||
      record(principal)["AWS"] === "*";
    const open = s["Effect"] === "Allow" && everyone && s["Condition"] === undefined;
    return open ? [typeof s["Sid"] === "string" ? s["Sid"] : `#${index}`] : [];
  });
}

export interface BucketLike {
  readonly urn: string;
  readonly type: string;
  readonly props: Readonly<Record<string, unknown>>;
  readonly propertyDependencies?: Readonly<Record<string, readonly { readonly urn: string }[]>>;
}

/** Stack rule: every bucket has a public access block naming it. */
export function bucketsWithoutPublicAccessBlock(resources: readonly BucketLike[]): string[] {
  const blocks = resources.filter(
    (r) => r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  );
  return resources
    .filter((r) => r.type === "aws:s3/bucket:Bucket")
    .filter(
      (bucket) =>
        !blocks.some(
          (block) =>
            (block.propertyDependencies?.["bucket"] ?? []).some((dep) => dep.urn === bucket.urn) ||
            (typeof block.props["bucket"] === "string" &&
              block.props["bucket"] === bucket.props["bucket"]),
        ),
    )
    .map((bucket) => bucket.urn);
}
