/**
 * Tags and labels, applied once per stack by a transformation rather than by hand in each
 * component: every taggable AWS resource gets the tenant's tags, every Kubernetes object its
 * labels. Stacks register {@link taggingTransformation}; components never set these keys.
 */
import * as pulumi from "@pulumi/pulumi";

import { COST_CENTER_LABEL, MANAGED_BY_LABEL, TENANT_LABEL, TIER_LABEL } from "./tagKeys.ts";

export {
  COST_CENTER_LABEL,
  MANAGED_BY_LABEL,
  REQUIRED_LABEL_KEYS,
  REQUIRED_TAG_KEYS,
  TENANT_LABEL,
  TIER_LABEL,
} from "./tagKeys.ts";

const TAG_TO_LABEL: Readonly<Record<string, string>> = {
  tenant: TENANT_LABEL,
  tier: TIER_LABEL,
  "cost-center": COST_CENTER_LABEL,
  "managed-by": MANAGED_BY_LABEL,
};

/**
 * Kubernetes labels for a set of tags: the system tags under `tenancy.io/` keys, values
 * made valid label values (≤ 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends).
 * Free-form extra tags stay AWS tags only: they are not guaranteed to be valid labels.
 */
export function kubernetesLabelsFor(
  tags: Readonly<Record<string, string>>,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [tag, label] of Object.entries(TAG_TO_LABEL)) {
    const value = tags[tag];
    if (value !== undefined) labels[label] = labelValue(value);
  }
  return labels;
}

export function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/**
 * Whether an AWS resource takes tags. Derived from the provider SDK, not a hand-kept list:
 * the generated constructor of every taggable resource declares the `tagsAll` output.
 */
export function isTaggableAwsResource(
  type: string,
  props: Readonly<Record<string, unknown>>,
): boolean {
  return type.startsWith("aws:") && "tagsAll" in props;
}

/** Whether a resource is a Kubernetes object (providers are not). */
export function isKubernetesObject(type: string): boolean {
  return type.startsWith("kubernetes:");
}

/** `props` with `tags` merged; the given tags win over per-resource ones. */
export function withTags(
  props: pulumi.Inputs,
  tags: Readonly<Record<string, string>>,
): pulumi.Inputs {
  return { ...props, tags: mergeInto(props["tags"], tags) };
}

/** `props` with `metadata.labels` merged; the given labels win. */
export function withLabels(
  props: pulumi.Inputs,
  labels: Readonly<Record<string, string>>,
): pulumi.Inputs {
  const metadata: unknown = props["metadata"];
  if (pulumi.Output.isInstance(metadata) || isPromise(metadata)) {
    const resolved = pulumi.output(metadata as pulumi.Input<Record<string, unknown> | undefined>);
    return { ...props, metadata: resolved.apply((m) => labelMetadata(m, labels)) };
  }
  return { ...props, metadata: labelMetadata(metadata, labels) };
}

function labelMetadata(metadata: unknown, labels: Readonly<Record<string, string>>) {
  const m = (metadata ?? {}) as Record<string, unknown>;
  return { ...m, labels: mergeInto(m["labels"], labels) };
}

function mergeInto(
  existing: unknown,
  extra: Readonly<Record<string, string>>,
): pulumi.Input<Record<string, string>> {
  if (pulumi.Output.isInstance(existing) || isPromise(existing)) {
    return pulumi
      .output(existing as pulumi.Input<Record<string, string> | undefined>)
      .apply((e) => ({ ...(e ?? {}), ...extra }));
  }
  return { ...((existing ?? {}) as Record<string, string>), ...extra };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

/**
 * The stack transformation: tags on taggable AWS resources, labels on Kubernetes objects.
 * Register it with `pulumi.runtime.registerStackTransformation` at the top of a program (the
 * in-process form works under the mock runtime too, unlike `registerResourceTransform`).
 */
export function taggingTransformation(
  tags: Readonly<Record<string, string>>,
): pulumi.ResourceTransformation {
  const labels = kubernetesLabelsFor(tags);
  return ({ type, props, opts }) => {
    if (isTaggableAwsResource(type, props)) return { props: withTags(props, tags), opts };
    if (isKubernetesObject(type)) return { props: withLabels(props, labels), opts };
    return undefined;
  };
}
