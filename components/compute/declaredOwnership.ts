/**
 * The declared state owns the Kubernetes objects it declares. The provider applies them with
 * server-side apply; a field someone changed out of band (`kubectl edit`, another client)
 * then belongs to that field manager, and the next apply is refused as a field conflict —
 * a refresh reports the drift, but no update can repair it. Pulumi's Kubernetes provider
 * (4.25) forces an apply, taking those fields back, only when the object carries the
 * `pulumi.com/patchForce` annotation (or for every object of a process that sets
 * PULUMI_K8S_ENABLE_PATCH_FORCE); fields we do not declare stay with their managers.
 */

/** Annotations of every object a tenant's compute layer declares. */
export const DECLARED_OWNERSHIP: Readonly<Record<string, string>> = {
  "pulumi.com/patchForce": "true",
};
