/**
 * "Does this tenant have a Pulumi stack of its own?" is decided once (contract/modes.ts
 * `needsStack`): the service's provisioner (signup inline or through a worker, offboarding,
 * crash recovery) and `tenancy up`/`preview` (stackTenants) must give the same answer for
 * every combination of layer modes and encryption.
 */
import { describe, expect, it } from "vitest";
import { BUILTIN_QUOTAS } from "../../catalog/index.ts";
import {
  ENCRYPTION,
  isolationOf,
  LAYERS,
  MODES,
  needsStack,
  resolvedTenantSchema,
  type Encryption,
  type LayerModes,
  type ResolvedTenant,
} from "../../contract/index.ts";
import { createProvisioner } from "../../control-plane/jobs/provisioner.ts";
import { stackTenants } from "../../control-plane/runner/previewTenants.ts";
import { createTenantDatabaseDriver } from "../../db/drivers/index.ts";

function tenant(layers: LayerModes, encryption: Encryption): ResolvedTenant {
  return resolvedTenantSchema.parse({
    slug: "stint",
    name: "Stint",
    tier: "custom",
    lifecycle: "active",
    region: "eu-west-1",
    layers,
    isolation: Object.fromEntries(
      LAYERS.map((layer) => [layer, isolationOf(layer, layers[layer] as never, encryption)]),
    ),
    overridden: [],
    encryption,
    quotas: BUILTIN_QUOTAS,
    costCenter: "platform",
    tags: { tenant: "stint", tier: "custom", "cost-center": "platform", "managed-by": "tenancy" },
    ...(layers.identity === "federated"
      ? { federation: { protocol: "saml", metadataUrl: "https://idp.example/metadata" } }
      : {}),
  });
}

const every: ResolvedTenant[] = MODES.database.flatMap((database) =>
  MODES.storage.flatMap((storage) =>
    MODES.compute.flatMap((compute) =>
      MODES.identity.flatMap((identity) =>
        ENCRYPTION.map((encryption) =>
          tenant({ database, storage, compute, identity }, encryption),
        ),
      ),
    ),
  ),
);

const pooled: LayerModes = {
  database: "pool",
  storage: "prefix",
  compute: "pool",
  identity: "shared",
};

describe("needsStack", () => {
  it.each([
    ["fully pooled, shared key", false, pooled, "shared"],
    ["fully pooled, a key of its own", true, pooled, "dedicated"],
    ["a schema of its own", true, { ...pooled, database: "schema" }, "shared"],
    ["a bucket of its own", true, { ...pooled, storage: "bucket" }, "shared"],
    ["a namespace of its own", true, { ...pooled, compute: "namespace" }, "shared"],
    ["its own identity provider", true, { ...pooled, identity: "federated" }, "shared"],
  ] as const)("%s → needs a stack: %s", (_what, expected, layers, encryption) => {
    expect(needsStack(tenant(layers, encryption))).toBe(expected);
  });

  it(`the provisioner and stackTenants agree with it for all ${every.length} combinations`, () => {
    const provisioner = createProvisioner({
      // Never called: isInline and engineAvailability decide without the database.
      driver: createTenantDatabaseDriver({ adminUrl: "postgres://unused.invalid:5432/unused" }),
    });
    expect(every).toHaveLength(3 * 2 * 4 * 2 * 2);
    for (const t of every) {
      const stack = needsStack(t);
      const what = `${JSON.stringify(t.layers)} ${t.encryption}`;
      expect(provisioner.isInline(t), what).toBe(!stack);
      // No engine in this provisioner: a stack tenant must wait for one, a registration not.
      expect(provisioner.engineAvailability(t), what).toBe(stack ? "missing" : "ready");
      expect(stackTenants([t]), what).toEqual(stack ? [t] : []);
    }
  });

  it("a fully pooled tenant with a key of its own is deployed by up/preview (it has a stack)", () => {
    const ownKey = tenant(pooled, "dedicated");
    expect(stackTenants([ownKey, tenant(pooled, "shared")])).toEqual([ownKey]);
  });
});
