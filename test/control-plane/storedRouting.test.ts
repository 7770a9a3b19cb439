/**
 * Routing records stored before the contract are rewritten in its shape when the control
 * plane starts (control-plane/store/storedRouting.ts), with `tenantId` and `version` from the
 * tenant registry, so the API serves one typed record. The legacy rows are written here as
 * the previous releases stored them: a stack's record without `tenantId`, the pooled path's
 * raw driver record, and a contract record from before `version`. A record that cannot be
 * completed (no registry row) is kept, served as null, and reported.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routingRecordSchema, type RoutingRecord } from "../../contract/index.ts";
import { startControlPlane } from "../../control-plane/controlPlane.ts";
import { upgradeStoredRoutings } from "../../control-plane/store/storedRouting.ts";
import {
  exampleTiers,
  startTestControlPlane,
  type TestControlPlane,
} from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";
import pg from "pg";

const db = useTestDatabase();
let plane: TestControlPlane;
let shared: pg.Client;
const current = new Map<string, RoutingRecord>();

async function storedRouting(slug: string): Promise<unknown> {
  const { rows } = await plane.pool.query<{ routing: unknown }>(
    "SELECT routing FROM control_plane.tenants WHERE slug = $1",
    [slug],
  );
  return rows[0]!.routing;
}

async function store(slug: string, routing: unknown): Promise<void> {
  await plane.pool.query("UPDATE control_plane.tenants SET routing = $2::jsonb WHERE slug = $1", [
    slug,
    JSON.stringify(routing),
  ]);
}

async function served(slug: string): Promise<unknown> {
  const response = await plane.request(`/v1/tenants/${slug}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { routing: unknown }).routing;
}

/** The record of a stack from before the contract: no tenantId, no version, an extra field. */
function stackRecordBeforeContract(record: RoutingRecord): unknown {
  const { tenantId: _id, version: _version, ...database } = record.database;
  return { database, notProvisioned: ["storage", "identity"], legacy: true };
}

/** The pooled path's raw driver record, from before routing versions. */
function pooledDriverRecord(slug: string, record: RoutingRecord): unknown {
  const { version: _version, ...database } = record.database;
  return {
    database: {
      ...database,
      slug,
      searchPath: [record.database.schema],
      quotas: { dbConnections: 10, statementTimeoutMs: 10000 },
    },
    notProvisioned: [],
  };
}

/** A contract record from before `version`. */
function withoutVersion(record: RoutingRecord): unknown {
  const { version: _version, ...database } = record.database;
  return { ...record, database };
}

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name);
  for (const slug of ["kestrel", "merlin", "hobby", "osprey", "shrike"]) {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug, name: slug, tier: "free" },
    });
    expect(response.status).toBe(202);
    current.set(slug, routingRecordSchema.parse(await storedRouting(slug)));
  }
  shared = new pg.Client({ connectionString: plane.sharedUrl });
  await shared.connect();
});
afterAll(async () => {
  await shared?.end();
  await plane?.stop();
});

describe("routing records stored before the contract", () => {
  it("a current record carries the registry's tenantId and routing version", async () => {
    const { rows } = await shared.query<{ id: string; routing_version: string }>(
      "SELECT id, routing_version FROM tenancy.tenants WHERE slug = 'kestrel'",
    );
    expect(current.get("kestrel")!.database).toMatchObject({
      tenantId: rows[0]!.id,
      version: Number(rows[0]!.routing_version),
    });
    expect(current.get("kestrel")!.database.version).toBe(1);
  });

  it("are rewritten in the contract's shape with the registry's facts; one without a registry row is kept", async () => {
    await store("kestrel", stackRecordBeforeContract(current.get("kestrel")!));
    await store("merlin", pooledDriverRecord("merlin", current.get("merlin")!));
    await store("hobby", withoutVersion(current.get("hobby")!));
    // The registry is the truth for the version: hobby was moved twice meanwhile.
    await shared.query("UPDATE tenancy.tenants SET routing_version = 3 WHERE slug = 'hobby'");
    const orphan = stackRecordBeforeContract(current.get("osprey")!);
    await store("osprey", orphan);
    await shared.query("DELETE FROM tenancy.tenants WHERE slug = 'osprey'");

    // Before the upgrade they cannot be served typed.
    expect(await served("kestrel")).toBeNull();

    const result = await upgradeStoredRoutings(plane.pool, plane.sharedUrl);
    expect(result).toEqual({ upgraded: ["hobby", "kestrel", "merlin"], kept: ["osprey"] });

    expect(await served("kestrel")).toEqual({
      ...current.get("kestrel"),
      notProvisioned: ["storage", "identity"],
    });
    expect(await served("merlin")).toEqual(current.get("merlin"));
    const hobby = current.get("hobby")!;
    expect(await served("hobby")).toEqual({
      ...hobby,
      database: { ...hobby.database, version: 3 },
    });
    for (const slug of ["kestrel", "merlin", "hobby"]) {
      expect(await storedRouting(slug)).toEqual(await served(slug));
    }
    expect(await served("osprey")).toBeNull();
    expect(await storedRouting("osprey")).toEqual(orphan);

    // Nothing left to do: a second run changes nothing.
    expect(await upgradeStoredRoutings(plane.pool, plane.sharedUrl)).toEqual({
      upgraded: [],
      kept: ["osprey"],
    });
  });

  it("the list keeps working with a record that could not be completed", async () => {
    const response = await plane.request("/v1/tenants");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { tenants: { slug: string; routing: unknown }[] };
    const bySlug = new Map(body.tenants.map((t) => [t.slug, t.routing]));
    expect(bySlug.get("osprey")).toBeNull();
    expect(routingRecordSchema.parse(bySlug.get("merlin")).database.tenantId).toBe(
      current.get("merlin")!.database.tenantId,
    );
  });

  it("a control plane starting on the database upgrades what it finds", async () => {
    await store("shrike", pooledDriverRecord("shrike", current.get("shrike")!));
    const second = await startControlPlane({
      controlDatabaseUrl: plane.controlUrl,
      sharedDatabaseUrl: plane.sharedUrl,
      tiers: await exampleTiers().then((tiers) => () => tiers),
      auth: { operatorToken: plane.token },
      rolePrefix: db.current.name,
      databasePrefix: `${db.current.name}_db`,
      concurrency: 0,
    });
    await second.stop();
    expect(await storedRouting("shrike")).toEqual(current.get("shrike"));
  });
});
