/**
 * The desired-state hash of tenant stacks as one engine deploys them on the local target (see
 * ./desiredState.ts for what goes into it). One implementation for both deployers: `tenancy up`
 * skips a stack whose recorded hash matches, and the control-plane service records it after
 * each update (./recordingRunner.ts) and `reconcile` compares it (./serviceDesiredState.ts).
 */
import type { ResolvedTenant } from "../catalog/index.ts";
import type { EngineSettings } from "../control-plane/runner/engine.ts";
import { localStackConfig, type LocalTargetSettings } from "../control-plane/runner/stackConfig.ts";
import { declaredResourceHashes } from "./declaredResources.ts";
import { desiredStateHash, programCodeHash, sdkVersions } from "./desiredState.ts";
import { providerCodeFiles } from "./providerCode.ts";
import { stableJson } from "./stableJson.ts";

/** Who deploys: the engine (its program and version) and the local target's settings. */
export interface DesiredStateContext {
  readonly engine: Pick<EngineSettings, "projectDir" | "command">;
  readonly local: LocalTargetSettings;
}

/**
 * The tenant as plain JSON with sorted keys and no undefined fields: the service keeps its
 * tenants in jsonb (keys reordered), the catalog builds them in declaration order, and the same
 * tenant must give the same hash (and the same stack config text) from either.
 */
export function canonicalTenant(tenant: ResolvedTenant): ResolvedTenant {
  return JSON.parse(stableJson(JSON.parse(JSON.stringify(tenant)))) as ResolvedTenant;
}

/**
 * The desired-state hash of each of `tenants`' stacks in this context: their declared
 * resources are planned once, by the program in the engine's project directory, on the local
 * target with a cluster exactly when the stacks get a kubeconfig.
 */
export async function desiredStateHasher(
  context: DesiredStateContext,
  tenants: readonly ResolvedTenant[],
): Promise<(tenant: ResolvedTenant) => string> {
  const root = context.engine.projectDir;
  const configFor = localStackConfig(context.local);
  const [declared, providerCode, sdks] = await Promise.all([
    declaredResourceHashes(root, tenants, {
      target: "local",
      localCluster: context.local.kubeconfig !== undefined,
    }),
    providerCodeFiles(root).then((files) => programCodeHash(root, files)),
    sdkVersions(root),
  ]);
  const engine = context.engine.command.version?.toString() ?? "unknown";
  return (tenant) => {
    const resources = declared.get(tenant.slug);
    if (resources === undefined) throw new Error(`tenant ${tenant.slug} was not planned`);
    const spec = canonicalTenant(tenant);
    return desiredStateHash({
      spec,
      config: configFor(spec),
      resources,
      providerCode,
      engine,
      sdks,
    });
  };
}
