/**
 * Physical names of tenant-owned things. Every tenant identifier embeds the slug at a fixed,
 * unambiguous position so that the policy pack (and reviewers) can tell whose a reference is
 * without looking anything up: `referencedTenants` is the inverse of the functions below.
 */

/** Kubernetes namespace of a tenant with compute `namespace` or `dedicated-nodes`. */
export function tenantNamespaceName(slug: string): string {
  return `tenant-${slug}`;
}

/** Object key prefix of a pooled tenant in the shared bucket. Always ends with `/`. */
export function tenantPrefix(slug: string): string {
  return `tenants/${slug}/`;
}

/** IAM path of the tenant's roles and policies: `/tenancy/tenants/<slug>/`. */
export function tenantIamPath(slug: string): string {
  return `/tenancy/tenants/${slug}/`;
}

/** Alias of a tenant's own KMS key. */
export function tenantKeyAlias(slug: string): string {
  return `alias/tenancy/tenants/${slug}/key`;
}

/** Secrets Manager name of one of the tenant's secrets. */
export function tenantSecretName(slug: string, secret: string): string {
  return `tenancy/tenants/${slug}/${secret}`;
}

/** Name of the tenant's workload IAM role (≤ 64 characters for slugs ≤ 30). */
export function tenantRoleName(slug: string): string {
  return `tenancy-${slug}-workload`;
}

/** Cognito group of the tenant in the shared user pool; its name is the tenant claim. */
export function tenantGroupName(slug: string): string {
  return `tenant:${slug}`;
}

/** Cognito identity provider name of a federated tenant (≤ 32 characters). */
export function tenantProviderName(slug: string): string {
  return `t-${slug}`;
}

/** Service account the tenant's workloads run as, in its namespace. */
export const WORKLOAD_SERVICE_ACCOUNT = "workload";

/** Marker between the platform's bucket prefix and the slug; prefixes may not contain it. */
export const BUCKET_TENANT_MARKER = "-tenant-";

/**
 * Bucket of a tenant with storage `bucket`: `<prefix>-tenant-<slug>`. The prefix comes from
 * the platform (e.g. `acme-prod`) and may not contain `-tenant-`.
 */
export function tenantBucketName(bucketPrefix: string, slug: string): string {
  if (bucketPrefix.includes(BUCKET_TENANT_MARKER)) {
    throw new Error(`bucket prefix "${bucketPrefix}" may not contain "${BUCKET_TENANT_MARKER}"`);
  }
  return `${bucketPrefix}${BUCKET_TENANT_MARKER}${slug}`;
}

/** AWS partition of a region (`aws`, `aws-us-gov`, `aws-cn`). */
export function partitionOf(region: string): string {
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("cn-")) return "aws-cn";
  return "aws";
}

const SLUG = "[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?";
const PATTERNS: readonly RegExp[] = [
  // S3 prefixes, IAM paths, KMS aliases and secret names: `.../tenants/<slug>/...`
  new RegExp(`(?:^|[/:])tenants/(${SLUG})/`, "g"),
  // IRSA subjects: `system:serviceaccount:tenant-<slug>:<sa>`
  new RegExp(`system:serviceaccount:tenant-(${SLUG}):`, "g"),
  // namespace names: exactly `tenant-<slug>`
  new RegExp(`^tenant-(${SLUG})$`, "g"),
  // bucket names and S3 ARNs: `<prefix>-tenant-<slug>` up to the end or the first `/`
  new RegExp(`(?:^|:::)[a-z0-9][a-z0-9.-]*?${BUCKET_TENANT_MARKER}(${SLUG})(?=$|/)`, "g"),
  // Cognito group names
  new RegExp(`^tenant:(${SLUG})$`, "g"),
];

/** Keys whose values are free-form labels, not references (tags, Kubernetes labels). */
const NOT_REFERENCES = new Set(["tags", "tagsAll", "labels"]);

/**
 * Slugs of the tenants whose identifiers appear anywhere in `value` (strings, arrays,
 * objects, JSON documents given as strings). Tags and labels are skipped: they are the
 * owner's own claims, checked by the tagging policy.
 */
export function referencedTenants(value: unknown): Set<string> {
  const found = new Set<string>();
  visit(value, found, 0);
  return found;
}

function visit(value: unknown, found: Set<string>, depth: number): void {
  if (depth > 32 || value === null || value === undefined) return;
  if (typeof value === "string") {
    const json = parseJsonDocument(value);
    if (json !== undefined) return visit(json, found, depth + 1);
    for (const pattern of PATTERNS) {
      for (const match of value.matchAll(pattern)) if (match[1]) found.add(match[1]);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) visit(item, found, depth + 1);
    return;
  }
  if (typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (!NOT_REFERENCES.has(key)) visit(item, found, depth + 1);
    }
  }
}

/** Policy documents and other JSON travel as strings; look inside them. */
function parseJsonDocument(value: string): unknown {
  const first = value.trimStart()[0];
  if (first !== "{" && first !== "[") return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}
