/**
 * What every rule looks at: a resource's type, name, URN and input properties, whether it
 * comes from the policy engine (`ResourceValidationArgs` / `PolicyResource`) or a test.
 */
import { TENANT_LABEL } from "../components/tagKeys.ts";

export interface Subject {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Readonly<Record<string, unknown>>;
}

/** The stack of a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string | undefined {
  return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

/** The tenant whose stack a resource belongs to (`tenant-<slug>`), if any. */
export function tenantOfSubject(subject: Pick<Subject, "urn">): string | undefined {
  const stack = stackOfUrn(subject.urn);
  return stack?.startsWith("tenant-") ? stack.slice("tenant-".length) : undefined;
}

export function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function tagsOf(subject: Subject): Record<string, unknown> {
  return record(subject.props["tags"]);
}

export function labelsOf(subject: Subject): Record<string, unknown> {
  return record(record(subject.props["metadata"])["labels"]);
}

/** The tenant a resource claims to belong to, from its tags or labels. */
export function claimedTenant(subject: Subject): string | undefined {
  const claim = tagsOf(subject)["tenant"] ?? labelsOf(subject)[TENANT_LABEL];
  return typeof claim === "string" ? claim : undefined;
}

export function isKubernetes(type: string): boolean {
  return type.startsWith("kubernetes:");
}
