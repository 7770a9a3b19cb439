/**
 * No resource of a tenant stack references another tenant's bucket, prefix, key, namespace,
 * role or secret. Identifiers embed their owner's slug (components/naming.ts), so a foreign
 * reference is visible without looking anything up.
 */
import { referencedTenants } from "../../components/naming.ts";
import { claimedTenant, tenantOfSubject, type Subject } from "../subject.ts";

export function crossTenantViolations(subject: Subject): string[] {
  const owner = tenantOfSubject(subject) ?? claimedTenant(subject);
  if (owner === undefined) return [];
  const others = [...referencedTenants(subject.props)].filter((slug) => slug !== owner).sort();
  return others.map((slug) => `references tenant ${slug}'s resources from tenant ${owner}`);
}
