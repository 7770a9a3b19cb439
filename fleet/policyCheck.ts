/**
 * The policy pack, called rule by rule on planned resources (offline: no engine). Mirrors how
 * policies/pack.ts wires the rules: resource rules per resource, stack rules on all of them.
 */
import { crossTenantViolations } from "../policies/rules/crossTenant.ts";
import { databaseProtectionViolations } from "../policies/rules/databaseProtection.ts";
import { namespaceIsolationViolations } from "../policies/rules/namespaceIsolation.ts";
import {
  bucketsWithoutPublicAccessBlock,
  publicDataViolations,
} from "../policies/rules/publicData.ts";
import { taggingViolations } from "../policies/rules/tagging.ts";
import type { Subject } from "../policies/subject.ts";
import { stackNameOf } from "../contract/index.ts";
import type { PlannedInputsResource } from "./planWorker.ts";

const RESOURCE_RULES: readonly [string, (s: Subject) => string[]][] = [
  ["tenant-resources-tagged", taggingViolations],
  ["no-public-data", publicDataViolations],
  ["databases-encrypted-and-protected", databaseProtectionViolations],
  ["no-cross-tenant-references", crossTenantViolations],
];

/** `policy: resource name: message` for every violation, in resource order. */
export function headViolations(
  resources: readonly PlannedInputsResource[],
  slug: string,
): string[] {
  const subjects: Subject[] = resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: `urn:pulumi:${stackNameOf(slug)}::tenancy::${r.parentType ? `${r.parentType}$` : ""}${r.type}::${r.name}`,
    props: r.inputs,
  }));
  const byUrn = new Map(subjects.map((s) => [s.urn, s.name]));
  const out: string[] = [];
  for (const subject of subjects) {
    for (const [policy, rule] of RESOURCE_RULES) {
      for (const message of rule(subject)) out.push(`${policy}: ${subject.name}: ${message}`);
    }
  }
  for (const urn of bucketsWithoutPublicAccessBlock(subjects)) {
    out.push(
      `buckets-block-public-access: ${byUrn.get(urn) ?? urn}: bucket has no public access block`,
    );
  }
  for (const { urn, message } of namespaceIsolationViolations(subjects)) {
    out.push(`tenant-namespaces-isolated: ${byUrn.get(urn) ?? urn}: ${message}`);
  }
  return out;
}
