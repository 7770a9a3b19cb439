/**
 * Tenant slugs: the one identifier that becomes part of stack names, Kubernetes namespaces,
 * bucket names, PostgreSQL schemas and roles. Its rules are the intersection of theirs, and
 * this is the only place they are written: the catalog, the stack config, the API and the
 * `db/` drivers (and the registry's CHECK constraint) all use {@link slugProblem} /
 * {@link SLUG_PATTERN}.
 */
import { z } from "zod";

/**
 * Shortest slug. A one-letter slug is refused everywhere (the catalog reports it at its
 * file:line): the registry table of every bootstrapped database already carries a CHECK
 * of 2–30 characters, and a one-letter name says nothing to the people reading a diff.
 */
export const SLUG_MIN_LENGTH = 2;

/** Longest slug: `tenant-<slug>` must fit a DNS label, and `<prefix>_t_<slug>` a PostgreSQL identifier. */
export const SLUG_MAX_LENGTH = 30;

/**
 * A DNS label of {@link SLUG_MIN_LENGTH}–{@link SLUG_MAX_LENGTH} characters: lowercase
 * letters, digits and inner hyphens, starting with a letter. Written so that PostgreSQL's
 * `~` reads it the same way (db/registry.ts uses its source in a CHECK constraint).
 */
export const SLUG_PATTERN = /^[a-z][a-z0-9-]{0,28}[a-z0-9]$/;

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
  if (value.length < SLUG_MIN_LENGTH) {
    return `must be at least ${SLUG_MIN_LENGTH} characters (got ${value.length})`;
  }
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

/** The slug as a zod schema (catalog files, resolved specs, API bodies, driver specs). */
export const slugSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = slugProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe(
    `Tenant identifier: a DNS label of ${SLUG_MIN_LENGTH}-${SLUG_MAX_LENGTH} characters, not a reserved word.`,
  );
