/**
 * Stack rule: every tenant namespace has a default-deny NetworkPolicy (all pods, ingress and
 * egress, no rules) and a ResourceQuota limiting CPU and memory.
 */
import { tenantNamespaceName } from "../../components/naming.ts";
import { TENANT_LABEL } from "../../components/tagKeys.ts";
import { labelsOf, record, type Subject } from "../subject.ts";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota";

function nameOf(subject: Subject): unknown {
  return record(subject.props["metadata"])["name"];
}

function namespaceOf(subject: Subject): unknown {
  return record(subject.props["metadata"])["namespace"];
}

/** A tenant namespace: labelled for a tenant, or named like one. */
export function isTenantNamespace(subject: Subject): boolean {
  if (subject.type !== NAMESPACE) return false;
  const tenant = labelsOf(subject)[TENANT_LABEL];
  const name = nameOf(subject);
  return (
    (typeof tenant === "string" && name === tenantNamespaceName(tenant)) ||
    (typeof name === "string" && name.startsWith("tenant-"))
  );
}

export function isDefaultDeny(subject: Subject): boolean {
  if (subject.type !== NETWORK_POLICY) return false;
  const spec = record(subject.props["spec"]);
  const selector = record(spec["podSelector"]);
  const selectsAll = Object.values(selector).every(
    (v) =>
      v === undefined || (Array.isArray(v) ? v.length === 0 : Object.keys(record(v)).length === 0),
  );
  const types = Array.isArray(spec["policyTypes"]) ? (spec["policyTypes"] as unknown[]) : [];
  const empty = (rules: unknown) =>
    rules === undefined || (Array.isArray(rules) && rules.length === 0);
  return (
    selectsAll &&
    types.includes("Ingress") &&
    types.includes("Egress") &&
    empty(spec["ingress"]) &&
    empty(spec["egress"])
  );
}

export function limitsComputeResources(subject: Subject): boolean {
  if (subject.type !== RESOURCE_QUOTA) return false;
  const hard = record(record(subject.props["spec"])["hard"]);
  const has = (...keys: string[]) =>
    keys.some((k) => typeof hard[k] === "string" && hard[k] !== "");
  return (
    has("limits.cpu", "requests.cpu", "cpu") && has("limits.memory", "requests.memory", "memory")
  );
}

/** Namespaces (by name) missing their default-deny policy or quota, with what is missing. */
export function namespaceIsolationViolations(
  resources: readonly Subject[],
): { urn: string; message: string }[] {
  const problems: { urn: string; message: string }[] = [];
  for (const ns of resources.filter(isTenantNamespace)) {
    const name = nameOf(ns);
    const inside = resources.filter((r) => namespaceOf(r) === name);
    if (!inside.some(isDefaultDeny)) {
      problems.push({
        urn: ns.urn,
        message: `namespace ${String(name)} has no default-deny NetworkPolicy`,
      });
    }
    if (!inside.some(limitsComputeResources)) {
      problems.push({
        urn: ns.urn,
        message: `namespace ${String(name)} has no ResourceQuota on CPU and memory`,
      });
    }
  }
  return problems;
}
