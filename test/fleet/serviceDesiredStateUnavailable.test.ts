/**
 * When reconcile cannot compare desired states it says why and starts nothing for it: no engine
 * yet (a first start while the engine is built), or a backend that keeps no records. One note
 * line per reason, with a count, however many tenants it applies to.
 */
import { describe, expect, it } from "vitest";
import { resolveTenant, tenantFileSchema } from "../../catalog/index.ts";
import { EngineUnavailableError, type EngineSettings } from "../../control-plane/runner/engine.ts";
import { reconcileNotes } from "../../control-plane/service/reconcile.ts";
import { serviceDesiredState } from "../../fleet/serviceDesiredState.ts";
import { exampleTiers } from "../support/controlPlane.ts";

const local = { adminUrl: "postgres://admin:pw@127.0.0.1:5432/app" };

describe("desired state that cannot be compared", () => {
  it("no engine yet: unavailable, with the engine's reason", async () => {
    const tiers = await exampleTiers();
    const tenant = resolveTenant(
      tenantFileSchema.parse({ slug: "ux-a", name: "A", tier: "pro" }),
      tiers,
    );
    const { check } = serviceDesiredState({
      engine: () => Promise.reject(new EngineUnavailableError("no Pulumi engine found")),
      local,
    });
    expect(await check.outdated([tenant])).toEqual({
      unavailable: "no Pulumi engine to compare with (no Pulumi engine found)",
    });
  });

  it("a backend other than file:// keeps no records: unavailable, nothing planned", async () => {
    const tiers = await exampleTiers();
    const tenant = resolveTenant(
      tenantFileSchema.parse({ slug: "ux-b", name: "B", tier: "pro" }),
      tiers,
    );
    const engine = { backendUrl: "s3://bucket/state" } as EngineSettings;
    const { check } = serviceDesiredState({ engine: async () => engine, local });
    expect(await check.outdated([tenant])).toEqual({
      unavailable: "backend s3://bucket/state keeps no desired-state records",
    });
  });

  it("notes: one line per reason with a count and the first tenants", () => {
    const notCompared = "desired state not compared: no engine";
    const steps = [
      ...["a", "b", "c", "d"].map((slug) => ({
        slug,
        action: "unchanged" as const,
        detail: notCompared,
      })),
      {
        slug: "e",
        action: "update" as const,
        operationId: "1",
        detail: "its desired state changed",
      },
      { slug: "f", action: "update" as const, operationId: "2" },
      { slug: "g", action: "refused" as const, detail: "deleted" },
    ];
    expect(reconcileNotes(steps)).toEqual([
      `4 tenants (a, b, c, ...) unchanged: ${notCompared}`,
      "1 tenant (e) updated: its desired state changed",
    ]);
  });
});
