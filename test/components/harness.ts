/** Shared helpers of the component tests: the example catalog and the mock runtime. */
import { loadCatalog, resolveCatalog, type ResolvedTenant } from "../../catalog/index.ts";
import type {
  InDatabaseProvisioner,
  InDatabaseRequest,
} from "../../components/database/inDatabaseProvisioner.ts";
import { partitionOf } from "../../components/naming.ts";
import {
  runUnderMocks,
  type CollectedResource,
  type MockRunResult,
} from "../../stacks/planning/mockRuntime.ts";
import { plannedProvisioner } from "../../stacks/planning/plannedProvisioner.ts";
import { plannedPlatformOutputs } from "../../stacks/planning/plannedValues.ts";

let catalog: Promise<ResolvedTenant[]> | undefined;

export function exampleTenants(): Promise<ResolvedTenant[]> {
  catalog ??= loadCatalog("tenants").then((loaded) => {
    if (!loaded.ok) throw new Error("the example catalog must be valid");
    return resolveCatalog(loaded.catalog);
  });
  return catalog;
}

export async function exampleTenant(slug: string): Promise<ResolvedTenant> {
  const tenant = (await exampleTenants()).find((t) => t.slug === slug);
  if (!tenant) throw new Error(`no example tenant ${slug}`);
  return tenant;
}

export const REGION = "eu-west-1";
export const PLATFORM = plannedPlatformOutputs(REGION);

/** Runs a component program under mocks in a stack (default `tenant-test`). */
export function collect(
  program: () => unknown,
  stack = "tenant-test",
  region = REGION,
): Promise<MockRunResult> {
  return runUnderMocks(
    async () => {
      const result = program();
      return (result && typeof result === "object" && !("urn" in result) ? result : {}) as Record<
        string,
        unknown
      >;
    },
    {
      stack,
      region,
      partition: partitionOf(region),
      stackOutputs: { [`platform-${region}`]: plannedPlatformOutputs(region) },
    },
  );
}

/** `{ type: count }` of the custom resources (components and providers excluded). */
export function typeCounts(resources: readonly CollectedResource[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of resources) {
    if (r.type.startsWith("tenancy:") || r.type.startsWith("pulumi:")) continue;
    counts[r.type] = (counts[r.type] ?? 0) + 1;
  }
  return counts;
}

export function ofType(resources: readonly CollectedResource[], type: string): CollectedResource[] {
  return resources.filter((r) => r.type === type);
}

export function one(resources: readonly CollectedResource[], type: string): CollectedResource {
  const found = ofType(resources, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

export function json(value: unknown): unknown {
  if (typeof value !== "string") throw new Error(`expected a JSON string, got ${typeof value}`);
  return JSON.parse(value);
}

/** A provisioner that records its calls and delegates to the planning one. */
export function observingProvisioner(): {
  provisioner: InDatabaseProvisioner;
  calls: { name: string; request: InDatabaseRequest; parent: unknown }[];
} {
  const calls: { name: string; request: InDatabaseRequest; parent: unknown }[] = [];
  return {
    calls,
    provisioner: (name, request, opts) => {
      calls.push({ name, request, parent: opts.parent });
      return plannedProvisioner(name, request, opts);
    },
  };
}
