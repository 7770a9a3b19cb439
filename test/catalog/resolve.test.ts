import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BUILTIN_QUOTAS,
  loadCatalog,
  MODES,
  resolveCatalog,
  resolveTenant,
  tenantFileSchema,
  tiersFileSchema,
  validateCatalogFiles,
} from "../../catalog/index.ts";
import { catalogFiles } from "./fixtures.ts";

const tiers = tiersFileSchema.parse({
  defaults: { region: "eu-west-1", costCenter: "shared", quotas: { dbConnections: 7 } },
  tiers: {
    pro: {
      layers: { database: "schema", storage: "bucket", compute: "namespace", identity: "shared" },
      quotas: { cpu: "2", statementTimeoutMs: 15000 },
      allowedOverrides: { database: ["dedicated"] },
    },
  },
});

describe("resolveTenant", () => {
  it("applies overrides per layer and classifies isolation", () => {
    const resolved = resolveTenant(
      tenantFileSchema.parse({
        slug: "acme",
        name: "Acme",
        tier: "pro",
        overrides: { database: "dedicated" },
      }),
      tiers,
    );
    expect(resolved.layers).toEqual({
      database: "dedicated",
      storage: "bucket",
      compute: "namespace",
      identity: "shared",
    });
    expect(resolved.isolation).toEqual({
      database: "silo",
      storage: "bridge",
      compute: "bridge",
      identity: "pool",
    });
    expect(resolved.overridden).toEqual(["database"]);
  });

  it("falls back tenant → tier → catalog defaults → built-ins for each quota", () => {
    const resolved = resolveTenant(
      tenantFileSchema.parse({
        slug: "acme",
        name: "Acme",
        tier: "pro",
        quotas: { memory: "3Gi" },
      }),
      tiers,
    );
    expect(resolved.quotas).toEqual({
      memory: "3Gi", // tenant
      cpu: "2", // tier
      statementTimeoutMs: 15000, // tier
      dbConnections: 7, // catalog defaults
      requestsPerSecond: BUILTIN_QUOTAS.requestsPerSecond, // built-in
    });
  });

  it("tags carry tenant, tier and cost center over the tenant's extras", () => {
    const resolved = resolveTenant(
      tenantFileSchema.parse({ slug: "acme", name: "Acme", tier: "pro", tags: { team: "x" } }),
      tiers,
    );
    expect(resolved.tags).toEqual({
      team: "x",
      tenant: "acme",
      tier: "pro",
      "cost-center": "shared",
      "managed-by": "tenancy",
    });
    expect(resolved.region).toBe("eu-west-1");
  });

  it("an override equal to the tier's mode is not reported as overridden", () => {
    const resolved = resolveTenant(
      tenantFileSchema.parse({
        slug: "acme",
        name: "Acme",
        tier: "pro",
        overrides: { database: "schema" },
      }),
      tiers,
    );
    expect(resolved.overridden).toEqual([]);
  });

  it("property: every resolved layer is the override when given, else the tier's", () => {
    const mode = <T extends readonly string[]>(modes: T) =>
      fc.option(fc.constantFrom(...modes), { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          database: mode(MODES.database),
          storage: mode(MODES.storage),
          compute: mode(MODES.compute),
          identity: mode(MODES.identity),
        }),
        (overrides) => {
          const tenant = tenantFileSchema.parse({ slug: "tt", name: "T", tier: "pro", overrides });
          const resolved = resolveTenant(tenant, tiers);
          for (const layer of ["database", "storage", "compute", "identity"] as const) {
            expect(resolved.layers[layer]).toBe(overrides[layer] ?? tiers.tiers.pro!.layers[layer]);
          }
        },
      ),
    );
  });
});

describe("the example catalog", () => {
  it("is valid and covers every mode of every layer", async () => {
    const loaded = await loadCatalog("tenants");
    if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
    const resolved = resolveCatalog(loaded.catalog);
    expect(resolved.length).toBeGreaterThanOrEqual(6);
    for (const layer of ["database", "storage", "compute", "identity"] as const) {
      const used = new Set(resolved.map((t) => t.layers[layer]));
      expect([...used].sort()).toEqual([...MODES[layer]].sort());
    }
    expect(resolved.some((t) => t.overridden.length > 0)).toBe(true);
    expect(Object.keys(loaded.catalog.tiers.tiers)).toEqual(["free", "pro", "enterprise"]);
  });

  it("resolution is deterministic and sorted by slug", () => {
    const files = catalogFiles({
      "bb.yaml": "slug: bb\nname: B\ntier: free\n",
      "aa.yaml": "slug: aa\nname: A\ntier: free\n",
    });
    const first = validateCatalogFiles(files);
    const second = validateCatalogFiles([...files].reverse());
    if (!first.ok || !second.ok) throw new Error("fixture catalog should be valid");
    expect(resolveCatalog(first.catalog)).toEqual(resolveCatalog(second.catalog));
    expect(resolveCatalog(first.catalog).map((t) => t.slug)).toEqual(["aa", "bb"]);
  });
});
