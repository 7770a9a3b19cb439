/**
 * Reads the tenant stack's configuration (the only place that does, with the platform's
 * ./platform/config.ts). The spec comes from `tenancy:tenant` (JSON, set by the control
 * plane) or, when absent, from the catalog by the stack's slug.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import {
  CONFIG_NAMES,
  CONFIG_NAMESPACE,
  configKey,
  isTarget,
  parseResolvedTenant,
  slugOfStack,
  stackNameOf,
  TARGETS,
  type ResolvedTenant,
  type Target,
} from "../../contract/index.ts";
import type { DatabaseNaming } from "./provisioner.ts";

export interface TenantStackConfig {
  readonly tenant: ResolvedTenant;
  readonly target: Target;
  /** `tenancy:platformStack`; default `platform-<region>`. */
  readonly platformStack?: string;
  /** `tenancy:databaseUrl` (secret) or DATABASE_URL; the local server, `local` only. */
  readonly localAdminUrl?: pulumi.Output<string>;
  /** `tenancy:kubeconfig` (secret): the local Kubernetes cluster, `local` only. */
  readonly localKubeconfig?: pulumi.Output<string>;
  /** `tenancy:rolePrefix` / `tenancy:databasePrefix`, passed to the db/ dynamic resource. */
  readonly naming: DatabaseNaming;
}

export async function readTenantStackConfig(
  stack: string = pulumi.getStack(),
): Promise<TenantStackConfig> {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const slug = slugOfStack(stack);
  const target = config.get(CONFIG_NAMES.target) ?? "aws";
  if (!isTarget(target)) {
    throw new Error(
      `config ${configKey("target")} must be one of ${TARGETS.join(", ")}, got "${target}"`,
    );
  }
  const json = config.get(CONFIG_NAMES.tenant);
  const tenant =
    json !== undefined
      ? parseResolvedTenant(json, `config ${configKey("tenant")}`)
      : await tenantFromCatalog(catalogDir(config.get(CONFIG_NAMES.catalogDir) ?? "tenants"), slug);
  if (tenant.slug !== slug) {
    throw new Error(
      `config ${configKey("tenant")} is for "${tenant.slug}" but this stack is ${stackNameOf(slug)}`,
    );
  }
  const platformStack = config.get(CONFIG_NAMES.platformStack);
  const databaseUrl = config.getSecret(CONFIG_NAMES.databaseUrl) ?? secretFromEnv("DATABASE_URL");
  const kubeconfig = config.getSecret(CONFIG_NAMES.kubeconfig);
  const rolePrefix = config.get(CONFIG_NAMES.rolePrefix);
  const databasePrefix = config.get(CONFIG_NAMES.databasePrefix);
  return {
    naming: {
      ...(rolePrefix === undefined ? {} : { rolePrefix }),
      ...(databasePrefix === undefined ? {} : { databasePrefix }),
    },
    tenant,
    target,
    ...(platformStack === undefined ? {} : { platformStack }),
    ...(databaseUrl === undefined ? {} : { localAdminUrl: databaseUrl }),
    ...(kubeconfig === undefined ? {} : { localKubeconfig: kubeconfig }),
  };
}

/** The project root (where Pulumi.yaml is), from this file's place in it. */
export const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The engine runs the program in its own directory (stacks/), so a relative
 * `tenancy:catalogDir` is resolved against the project root.
 */
export function catalogDir(dir: string): string {
  return isAbsolute(dir) ? dir : resolve(PROJECT_ROOT, dir);
}

async function tenantFromCatalog(dir: string, slug: string): Promise<ResolvedTenant> {
  // Loaded here only: a stack given its tenant in config (the service, `tenancy up`) never
  // loads the catalog reader and its YAML parser.
  const { formatDiagnostic, loadCatalog, resolveCatalog } = await import("../../catalog/index.ts");
  const loaded = await loadCatalog(dir);
  if (!loaded.ok) {
    throw new Error(
      `catalog ${dir} is invalid:\n${loaded.diagnostics.map(formatDiagnostic).join("\n")}`,
    );
  }
  const tenant = resolveCatalog(loaded.catalog).find((t) => t.slug === slug);
  if (!tenant)
    throw new Error(
      `tenant "${slug}" is not in catalog ${dir}; set ${configKey("tenant")} or add tenants/${slug}.yaml`,
    );
  return tenant;
}

function secretFromEnv(name: string): pulumi.Output<string> | undefined {
  const value = process.env[name];
  return value ? pulumi.secret(value) : undefined;
}
