/**
 * Names across the Automation API seam: stack names, targets and the stack config keys the
 * control plane writes and the stack program reads. Written once; both sides import them.
 */

/** Where a tenant stack deploys. `local` provisions the database layer only. */
export const TARGETS = ["aws", "local"] as const;
export type Target = (typeof TARGETS)[number];

export function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

export const TENANT_STACK_PREFIX = "tenant-";
export const PLATFORM_STACK_PREFIX = "platform-";

/** The Pulumi stack of a tenant: `tenant-<slug>`. */
export function stackNameOf(slug: string): string {
  return `${TENANT_STACK_PREFIX}${slug}`;
}

/** The slug of a tenant stack name. */
export function slugOfStack(stack: string): string {
  if (!stack.startsWith(TENANT_STACK_PREFIX) || stack.length === TENANT_STACK_PREFIX.length) {
    throw new Error(
      `stack "${stack}" is not a tenant stack: tenant stacks are named ${stackNameOf("<slug>")}`,
    );
  }
  return stack.slice(TENANT_STACK_PREFIX.length);
}

/** Default platform stack of a region: one platform stack per region. */
export function platformStackFor(region: string): string {
  return `${PLATFORM_STACK_PREFIX}${region}`;
}

/** Whether a stack runs the platform program (`platform` or `platform-<region>`). */
export function isPlatformStack(stack: string): boolean {
  return stack === "platform" || stack.startsWith(PLATFORM_STACK_PREFIX);
}

/** Namespace of every stack setting of the project. */
export const CONFIG_NAMESPACE = "tenancy";

/** Stack settings by their name inside {@link CONFIG_NAMESPACE} (what `pulumi.Config.get` takes). */
export const CONFIG_NAMES = {
  /** The resolved tenant as JSON (./resolvedTenant.ts). */
  tenant: "tenant",
  /** A {@link Target}. @default "aws" */
  target: "target",
  /** Superuser URL of the local server (secret); `local` only. */
  databaseUrl: "databaseUrl",
  /** Kubeconfig of the local Kubernetes cluster (secret); `local` only. */
  kubeconfig: "kubeconfig",
  /** Prefix of the roles the db/ drivers manage. */
  rolePrefix: "rolePrefix",
  /** Prefix of dedicated tenant databases. */
  databasePrefix: "databasePrefix",
  /** Platform stack to reference; default {@link platformStackFor}(region). */
  platformStack: "platformStack",
  /** Catalog directory read when `tenant` is not set. @default "tenants" */
  catalogDir: "catalogDir",
} as const;
export type ConfigName = keyof typeof CONFIG_NAMES;

/** The full key of a setting, as the Automation API's `setAllConfig` takes it: `tenancy:<name>`. */
export function configKey(name: ConfigName): string {
  return `${CONFIG_NAMESPACE}:${CONFIG_NAMES[name]}`;
}
