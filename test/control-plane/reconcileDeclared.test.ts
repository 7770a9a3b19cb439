/**
 * `reconcile` applies the catalog file as declared and then has nothing left to do: fields the
 * API cannot patch (tags, cost center) take effect, a quota removed from the file is removed,
 * and a second run over the same catalog starts no operation.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Catalog, TenantFile } from "../../catalog/index.ts";
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

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name, { sweepSeconds: 1 });
});
afterAll(async () => {
  await plane?.stop();
});

async function stored(slug: string) {
  const { rows } = await plane.pool.query<{ state: string; spec: TenantFile; ops: number }>(
    `SELECT t.state, t.spec,
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
