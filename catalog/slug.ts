/**
 * Tenant slugs: the one identifier that becomes part of stack names, Kubernetes namespaces,
 * bucket names, PostgreSQL schemas and roles. Its rules are the intersection of theirs.
 */

/** Longest slug: `tenant-<slug>` must fit a DNS label, and `<prefix>_t_<slug>` a PostgreSQL identifier. */
export const SLUG_MAX_LENGTH = 30;

/** A DNS label: lowercase letters, digits and inner hyphens, starting with a letter. */
export const SLUG_PATTERN = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

/** Names that would collide with platform objects or mislead a reader. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  "admin",
  "all",
  "api",
  "app",
  "auth",
  "default",
  "internal",
  "kube-system",
  "none",
  "null",
  "platform",
  "pool",
  "postgres",
  "public",
  "root",
  "shared",
  "system",
  "template0",
  "template1",
  "tenant",
  "tenants",
  "tiers",
  "undefined",
  "www",
]);

/** Why a string is not a valid slug, or undefined when it is one. */
export function slugProblem(value: string): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (value.length > SLUG_MAX_LENGTH) {
    return `must be at most ${SLUG_MAX_LENGTH} characters (got ${value.length})`;
  }
  if (!SLUG_PATTERN.test(value)) {
    const bad = [...value].find((c) => !/[a-z0-9-]/.test(c));
    const detail =
      bad !== undefined
        ? `character ${JSON.stringify(bad)} is not allowed`
        : value.includes("--")
          ? "consecutive hyphens are not allowed"
          : "it must start with a letter and end with a letter or digit";
    return `must be a DNS label (lowercase letters, digits and inner hyphens): ${detail}`;
  }
  if (value.includes("--")) return "consecutive hyphens are not allowed";
  if (RESERVED_SLUGS.has(value)) return `"${value}" is reserved`;
  return undefined;
}
