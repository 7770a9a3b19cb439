/**
 * What each tenant's stack declares, as one hash per tenant: its resources with their inputs,
 * planned under the mock runtime by the program in `root` (what `tenancy plan` and
 * `tenancy diff` compute), in a child process so the program is read from disk as it is now.
 * A code change that alters a tenant's resources changes its hash; a comment does not.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planSide } from "./planSide.ts";
import { materialize } from "./shapeMarkers.ts";
import { stableJson } from "./stableJson.ts";

export interface DeclaredTenant {
  readonly slug: string;
  readonly name: string;
  readonly region: string;
}

export interface DeclaredHashOptions {
  readonly target: string;
  /** Plan the local target with a Kubernetes cluster (as deployed when one runs). */
  readonly localCluster: boolean;
}

/** slug → sha256 of the tenant's declared resources (or of its program's error). */
export async function declaredResourceHashes(
  root: string,
  tenants: readonly DeclaredTenant[],
  options: DeclaredHashOptions,
): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  if (tenants.length === 0) return hashes;
  const dir = await mkdtemp(join(tmpdir(), "tenancy-declared-"));
  try {
    const tenantsFile = join(dir, "tenants.json");
    await writeFile(tenantsFile, JSON.stringify(tenants));
    const plan = await planSide({
      root,
      catalogDir: "",
      target: options.target,
      localCluster: options.localCluster,
      tenantsFile,
    });
    if (!plan.ok) throw new Error(`planning the tenants failed: ${plan.diagnostics.join("; ")}`);
    for (const tenant of plan.tenants) {
      const shape = plan.shapes[tenant.shape];
      const declared = shape?.error
        ? { error: shape.error }
        : shape?.literal
          ? shape.resources
          : materialize(shape?.resources ?? [], tenant.slug, tenant.name);
      hashes.set(tenant.slug, createHash("sha256").update(stableJson(declared)).digest("hex"));
    }
    return hashes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
