/**
 * Property: for random pairs of tenants (any modes, keys, regions), nothing either tenant's
 * stack declares references the other tenant's identifiers.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  isolationOf,
  LAYERS,
  MODES,
  slugProblem,
  type ResolvedTenant,
} from "../../catalog/index.ts";
import { referencedTenants } from "../../components/naming.ts";
import { runTenantUnderMocks } from "../../stacks/planning/planTenant.ts";

const slug = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/)
  .filter((s) => !s.includes("--") && slugProblem(s) === undefined);

const tenant = (slugArb: fc.Arbitrary<string>): fc.Arbitrary<ResolvedTenant> =>
  fc
    .record({
      slug: slugArb,
      database: fc.constantFrom(...MODES.database),
      storage: fc.constantFrom(...MODES.storage),
      compute: fc.constantFrom(...MODES.compute),
      identity: fc.constantFrom(...MODES.identity),
      encryption: fc.constantFrom("shared" as const, "dedicated" as const),
      region: fc.constantFrom("us-east-1", "eu-west-1", "us-gov-west-1"),
      saml: fc.boolean(),
    })
    .map((t) => {
      const layers = {
        database: t.database,
        storage: t.storage,
        compute: t.compute,
        identity: t.identity,
      };
      return {
        slug: t.slug,
        name: t.slug,
        tier: "generated",
        lifecycle: "active",
        region: t.region,
        layers,
        isolation: Object.fromEntries(
          LAYERS.map((l) => [l, isolationOf(l, layers[l] as never, t.encryption)]),
        ) as ResolvedTenant["isolation"],
        overridden: [],
        encryption: t.encryption,
        quotas: {
          cpu: "1",
          memory: "1Gi",
          dbConnections: 5,
          statementTimeoutMs: 5000,
          requestsPerSecond: 10,
        },
        costCenter: "cc",
        tags: { tenant: t.slug, tier: "generated", "cost-center": "cc", "managed-by": "tenancy" },
        ...(t.identity === "federated"
          ? {
              federation: t.saml
                ? {
                    protocol: "saml" as const,
                    metadataUrl: `https://sso.${t.slug}.example/metadata`,
                  }
                : {
                    protocol: "oidc" as const,
                    issuer: `https://login.${t.slug}.example`,
                    clientId: t.slug,
                    clientSecretRef: `tenants/${t.slug}/oidc`,
                  },
            }
          : {}),
      } satisfies ResolvedTenant;
    });

/** Identifiers of `slug`, with the delimiters that make them unambiguous. */
function identifiersOf(slug: string): string[] {
  return [
    `"tenant-${slug}"`,
    `tenants/${slug}/`,
    `-tenant-${slug}"`,
    `-tenant-${slug}/`,
    `:tenant-${slug}:`,
    `"tenancy-${slug}-`,
  ];
}

function withoutTagsAndLabels(inputs: Readonly<Record<string, unknown>>): unknown {
  const {
    tags: _tags,
    metadata,
    ...rest
  } = inputs as { tags?: unknown; metadata?: Record<string, unknown> };
  if (!metadata) return rest;
  const { labels: _labels, ...meta } = metadata;
  return { ...rest, metadata: meta };
}

describe("isolation between tenants (property)", () => {
  it("no resource of one tenant references the other tenant's identifiers", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(tenant(slug), tenant(slug)).filter(([a, b]) => a.slug !== b.slug),
        async ([a, b]) => {
          for (const [self, other] of [
            [a, b],
            [b, a],
          ] as const) {
            const { resources } = await runTenantUnderMocks(self, "aws");
            for (const r of resources) {
              const referenced = referencedTenants(r.inputs);
              expect(
                [...referenced].filter((s) => s !== self.slug),
                `${r.type} ${r.name}`,
              ).toEqual([]);
              const text = JSON.stringify(withoutTagsAndLabels(r.inputs));
              // Every identifier starts with a delimiter, so one slug's never occurs inside another's.
              for (const id of identifiersOf(other.slug)) {
                expect(text.includes(id), `${self.slug}'s ${r.name} mentions ${id}`).toBe(false);
              }
            }
          }
        },
      ),
      { numRuns: 20 },
    );
  }, 60_000);
});
