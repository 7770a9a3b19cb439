/**
 * Planning many tenants with their resource inputs, once per "shape" where that is provably
 * the same as planning each tenant.
 *
 * A tenant's slug and display name are the only per-tenant strings every tenant has. Two
 * tenants whose resolved specs are equal once slug and name are masked (and whose slugs have
 * the same form: length and hyphen positions; names the same length) get the same resources
 * up to those strings — provided the program only ever copies them verbatim. That proviso is
 * checked, not assumed: the shape is planned twice, with two different markers of the same
 * form, and the two results must agree once each marker is replaced by a token. A program that
 * derives anything from the slug (underscores, case, hashes, truncation inside it) produces
 * results that disagree, and every tenant of that shape is then planned on its own.
 */

/** Tokens that stand for the tenant's slug and name in shape results. */
export const SLUG_TOKEN = "\u27e6slug\u27e7";
export const NAME_TOKEN = "\u27e6name\u27e7";
/** The slug with hyphens as underscores (PostgreSQL identifiers). */
export const SNAKE_TOKEN = "\u27e6slug_\u27e7";

export interface Markers {
  readonly slug: string;
  readonly name: string;
}

/** The two marker pairs of a tenant's form (letters that differ in case and between pairs). */
export function markersFor(slug: string, name: string): readonly [Markers, Markers] {
  return [
    { slug: slug.replace(/[^-]/g, "q"), name: "X".repeat(name.length) },
    { slug: slug.replace(/[^-]/g, "z"), name: "W".repeat(name.length) },
  ];
}

/** Whether the tenant's slug can be masked at all: every hyphen-separated part ≥ 2 characters. */
export function maskable(slug: string, name: string): boolean {
  return slug.split("-").every((part) => part.length >= 2) && name.length >= 2;
}

/** Replaces every occurrence of `from` in every string of a JSON-able value. */
export function replaceInValue(
  value: unknown,
  pairs: readonly (readonly [string, string])[],
): unknown {
  if (typeof value === "string") {
    let out = value;
    for (const [from, to] of pairs) out = out.replaceAll(from, to);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => replaceInValue(v, pairs));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        replaceInValue(k, pairs) as string,
        replaceInValue(v, pairs),
      ]),
    );
  }
  return value;
}

/** Pairs that turn a value planned with `markers` into its tokenised form. */
export function tokenPairs(markers: Markers): [string, string][] {
  return [
    [markers.slug, SLUG_TOKEN],
    [snake(markers.slug), SNAKE_TOKEN],
    [markers.name, NAME_TOKEN],
  ];
}

/** A tokenised value with the tenant's own slug and name put back. */
export function materialize<T>(value: T, slug: string, name: string): T {
  return replaceInValue(value, [
    [SLUG_TOKEN, slug],
    [SNAKE_TOKEN, snake(slug)],
    [NAME_TOKEN, name],
  ]) as T;
}

function snake(slug: string): string {
  return slug.replaceAll("-", "_");
}
