/**
 * The policies of the tenancy pack, as values: ./index.ts serves them, tests call their
 * validate functions directly.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { crossTenantViolations } from "./rules/crossTenant.ts";
import { databaseProtectionViolations } from "./rules/databaseProtection.ts";
import { namespaceIsolationViolations } from "./rules/namespaceIsolation.ts";
import { bucketsWithoutPublicAccessBlock, publicDataViolations } from "./rules/publicData.ts";
import { taggingViolations } from "./rules/tagging.ts";
import type { Subject } from "./subject.ts";

function resourcePolicy(
  name: string,
  description: string,
  rule: (subject: Subject) => string[],
): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      for (const message of rule({
        type: args.type,
        name: args.name,
        urn: args.urn,
        props: args.props,
      })) {
        reportViolation(message);
      }
    },
  };
}

export const tenantResourcesTagged = resourcePolicy(
  "tenant-resources-tagged",
  "Taggable AWS resources carry tenant, tier, cost-center and managed-by tags; Kubernetes objects the matching labels.",
  taggingViolations,
);

export const noPublicData = resourcePolicy(
  "no-public-data",
  "No database, bucket or security group is open to the internet.",
  publicDataViolations,
);

export const databasesProtected = resourcePolicy(
  "databases-encrypted-and-protected",
  "RDS instances are encrypted with a customer key, deletion-protected, backed up, with a final snapshot.",
  databaseProtectionViolations,
);

export const noCrossTenantReferences = resourcePolicy(
  "no-cross-tenant-references",
  "A tenant's resources never reference another tenant's bucket, prefix, key, namespace, role or secret.",
  crossTenantViolations,
);

export const bucketsBlockPublicAccess: StackValidationPolicy = {
  name: "buckets-block-public-access",
  description: "Every bucket has a public access block.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const urn of bucketsWithoutPublicAccessBlock(args.resources)) {
      reportViolation("bucket has no public access block", urn);
    }
  },
};

export const tenantNamespacesIsolated: StackValidationPolicy = {
  name: "tenant-namespaces-isolated",
  description: "Every tenant namespace has a default-deny NetworkPolicy and a ResourceQuota.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const { urn, message } of namespaceIsolationViolations(args.resources))
      reportViolation(message, urn);
  },
};

export const resourcePolicies = [
  tenantResourcesTagged,
  noPublicData,
  databasesProtected,
  noCrossTenantReferences,
];
export const stackPolicies = [bucketsBlockPublicAccess, tenantNamespacesIsolated];
export const tenancyPolicies = [...resourcePolicies, ...stackPolicies];
