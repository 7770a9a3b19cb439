/**
 * `reconcile` applies the catalog file as declared and then has nothing left to do: fields the
 * API cannot patch (tags, cost center) take effect, a quota removed from the file is removed,
 * and a second run over the same catalog starts no operation. A tiers.yaml edit is seen by what
 * it does to the resolved specs: a tier's quota updates exactly that tier's tenants; a change
 * that resolves to the same specs (a description) starts nothing.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Catalog, TenantFile, TiersFile } from "../../catalog/index.ts";
import { reconcile } from "../../control-plane/service/reconcile.ts";
import {
  exampleTiers,
  startTestControlPlane,
  type TestControlPlane,
} from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

const db = useTestDatabase();
let plane: TestControlPlane;
/** What the service resolves new specs with: the tiers.yaml of the catalog being reconciled. */
let serviceTiers: TiersFile;

beforeAll(async () => {
  serviceTiers = await exampleTiers();
  plane = await startTestControlPlane(db.current.name, {
    sweepSeconds: 1,
    tiers: () => serviceTiers,
  });
});
afterAll(async () => {
  await plane?.stop();
});

async function stored(slug: string) {
  const { rows } = await plane.pool.query<{
    state: string;
    spec: TenantFile;
    resolved: { quotas: { dbConnections: number } };
    ops: number;
  }>(
    `SELECT t.state, t.spec, t.resolved,
            (SELECT count(*)::int FROM control_plane.operations o WHERE o.tenant_slug = t.slug) AS ops
       FROM control_plane.tenants t WHERE t.slug = $1`,
    [slug],
  );
  return rows[0]!;
}

async function reconcileTo(spec: TenantFile) {
  const catalog: Catalog = { tiers: await exampleTiers(), tenants: [{ file: "t.yaml", spec }] };
  const [step] = await reconcile(plane.pool, plane.service, catalog);
  await waitFor(async () => (await stored(spec.slug)).state === "active", 30_000);
  return step!;
}

it("applies the declared spec, including fields the API cannot patch, then is unchanged", async () => {
  const first: TenantFile = { slug: "wren", name: "Wren", tier: "free", lifecycle: "active" };
  expect((await reconcileTo(first)).action).toBe("signup");
  expect((await reconcileTo(first)).action).toBe("unchanged");

  const edited: TenantFile = {
    ...first,
    quotas: { dbConnections: 2 },
    tags: { team: "birds" },
    costCenter: "cc-7",
  };
  expect((await reconcileTo(edited)).action).toBe("update");
  const afterEdit = await stored("wren");
  expect(afterEdit.spec).toMatchObject({
    quotas: { dbConnections: 2 },
    tags: { team: "birds" },
    costCenter: "cc-7",
  });
  // Nothing left to do: a second run over the same files starts no operation.
  expect((await reconcileTo(edited)).action).toBe("unchanged");
  expect((await stored("wren")).ops).toBe(afterEdit.ops);

  // A quota removed from the file is removed from the tenant (not merged with the old one).
  const removed: TenantFile = { ...edited, quotas: undefined };
  expect((await reconcileTo(removed)).action).toBe("update");
  expect((await stored("wren")).spec.quotas).toBeUndefined();
  expect((await reconcileTo(removed)).action).toBe("unchanged");
}, 120_000);

it("a tiers.yaml quota edit updates exactly that tier's tenants; a description edit nothing", async () => {
  const base = await exampleTiers();
  // Two fully pooled tiers (no engine needed): `free` and a copy of it named `starter`.
  const tiers: TiersFile = { ...base, tiers: { ...base.tiers, starter: base.tiers.free! } };
  const files: TenantFile[] = [
    { slug: "kite", name: "Kite", tier: "free", lifecycle: "active" },
    { slug: "lark", name: "Lark", tier: "free", lifecycle: "active" },
    { slug: "moth", name: "Moth", tier: "starter", lifecycle: "active" },
  ];
  const run = async (with_: TiersFile) => {
    serviceTiers = with_;
    const catalog: Catalog = {
      tiers: with_,
      tenants: files.map((spec) => ({ file: `${spec.slug}.yaml`, spec })),
    };
    const steps = await reconcile(plane.pool, plane.service, catalog);
    await waitFor(
      async () =>
        (await Promise.all(files.map((f) => stored(f.slug)))).every((t) => t.state === "active"),
      30_000,
    );
    return Object.fromEntries(steps.map((s) => [s.slug, s.action]));
  };
  expect(await run(tiers)).toEqual({ kite: "signup", lark: "signup", moth: "signup" });
  expect(await run(tiers)).toEqual({ kite: "unchanged", lark: "unchanged", moth: "unchanged" });
  const free = tiers.tiers.free!;
  const described: TiersFile = {
    ...tiers,
    tiers: { ...tiers.tiers, free: { ...free, description: "Edited words only." } },
  };
  expect(await run(described)).toEqual({ kite: "unchanged", lark: "unchanged", moth: "unchanged" });
  const before = free.quotas?.dbConnections;
  const quota: TiersFile = {
    ...tiers,
    tiers: { ...tiers.tiers, free: { ...free, quotas: { ...free.quotas, dbConnections: 4 } } },
  };
  expect(before).not.toBe(4);
  expect(await run(quota)).toEqual({ kite: "update", lark: "update", moth: "unchanged" });
  for (const slug of ["kite", "lark"])
    expect((await stored(slug)).resolved.quotas.dbConnections).toBe(4);
  expect((await stored("moth")).resolved.quotas.dbConnections).toBe(before);
  expect(await run(quota)).toEqual({ kite: "unchanged", lark: "unchanged", moth: "unchanged" });
}, 120_000);
