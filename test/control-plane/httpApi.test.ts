import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantToken } from "../../control-plane/http/auth.ts";
import { startTestControlPlane, type TestControlPlane } from "../support/controlPlane.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();
let plane: TestControlPlane;

beforeAll(async () => {
  plane = await startTestControlPlane(db.current.name);
  const created = await plane.request("/v1/tenants", {
    method: "POST",
    json: { slug: "osprey", name: "Osprey", tier: "free" },
  });
  expect(created.status).toBe(202);
});
afterAll(async () => {
  await plane?.stop();
});

async function tenantCount(): Promise<number> {
  const { rows } = await plane.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM control_plane.tenants",
  );
  return rows[0]!.n;
}

async function expectProblem(response: Response, status: number, reason: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as {
    status: number;
    reason: string;
    type: string;
    title: string;
  };
  expect(body).toMatchObject({ status, reason, type: `urn:tenancy:problem:${reason}` });
  return body;
}

describe("authentication", () => {
  it.each([
    ["no token", undefined],
    ["wrong token", "Bearer not-the-token"],
    ["wrong scheme", `Basic ${Buffer.from("a:b").toString("base64")}`],
    ["forged tenant token", "Bearer tnt_osprey.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  ])("%s is refused with 401 on every route", async (_case, authorization) => {
    const before = await tenantCount();
    for (const [method, path] of [
      ["GET", "/v1/tenants"],
      ["POST", "/v1/tenants"],
      ["GET", "/v1/tenants/osprey"],
      ["DELETE", "/v1/tenants/osprey"],
      ["GET", "/metrics"],
      ["GET", "/openapi.json"],
    ] as const) {
      const headers: Record<string, string> = authorization
        ? { authorization }
        : { authorization: "" };
      const response = await fetch(`${plane.baseUrl}${path}`, {
        method,
        headers: { ...headers, "content-type": "application/json" },
        ...(method === "POST"
          ? { body: JSON.stringify({ slug: "evil", name: "E", tier: "free" }) }
          : {}),
      });
      await expectProblem(response, 401, "unauthenticated");
    }
    expect(await tenantCount()).toBe(before);
  });

  it("a tenant token reads only its own tenant and cannot mutate", async () => {
    const own = `Bearer ${tenantToken(plane.token, "osprey")}`;
    expect(
      (await plane.request("/v1/tenants/osprey", { headers: { authorization: own } })).status,
    ).toBe(200);
    await expectProblem(
      await plane.request("/v1/tenants", { headers: { authorization: own } }),
      403,
      "forbidden",
    );
    await expectProblem(
      await plane.request("/v1/tenants/osprey", {
        method: "DELETE",
        headers: { authorization: own },
      }),
      403,
      "forbidden",
    );
    const other = `Bearer ${tenantToken(plane.token, "someone-else")}`;
    await expectProblem(
      await plane.request("/v1/tenants/osprey", { headers: { authorization: other } }),
      403,
      "forbidden",
    );
  });

  it("/healthz needs no token", async () => {
    const response = await fetch(`${plane.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("bad input: 4xx problem+json, nothing written", () => {
  it.each([
    ["malformed JSON", "{not json", 400, "malformed-json"],
    [
      "unknown field",
      JSON.stringify({ slug: "a1", name: "A", tier: "free", tenantId: "x" }),
      400,
      "invalid-request",
    ],
    ["wrong type", JSON.stringify({ slug: "a1", name: 5, tier: "free" }), 400, "invalid-request"],
    ["missing field", JSON.stringify({ slug: "a1", tier: "free" }), 400, "invalid-request"],
    [
      "uppercase slug",
      JSON.stringify({ slug: "Acme", name: "A", tier: "free" }),
      400,
      "invalid-request",
    ],
    [
      "SQL in slug",
      JSON.stringify({ slug: "a'; drop table x;--", name: "A", tier: "free" }),
      400,
      "invalid-request",
    ],
    [
      "shell in slug",
      JSON.stringify({ slug: "$(reboot)", name: "A", tier: "free" }),
      400,
      "invalid-request",
    ],
    [
      "reserved slug",
      JSON.stringify({ slug: "admin", name: "A", tier: "free" }),
      400,
      "invalid-request",
    ],
    [
      "unknown tier",
      JSON.stringify({ slug: "a1", name: "A", tier: "platinum" }),
      422,
      "invalid-tenant",
    ],
    [
      "forbidden override",
      JSON.stringify({ slug: "a1", name: "A", tier: "free", overrides: { database: "dedicated" } }),
      422,
      "invalid-tenant",
    ],
    [
      "oversized body",
      JSON.stringify({
        slug: "a1",
        name: "A",
        tier: "free",
        tags: { x: "y".repeat(200) },
        pad: "z".repeat(70_000),
      }),
      413,
      "body-too-large",
    ],
  ])("%s", async (_case, body, status, reason) => {
    const before = await tenantCount();
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await expectProblem(response, status, reason);
    expect(await tenantCount()).toBe(before);
  });

  it("field errors name the field", async () => {
    const response = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "a1", name: "A", tier: "platinum" },
    });
    const body = (await response.json()) as { errors: { path: string; message: string }[] };
    expect(body.errors).toEqual([
      { path: "tier", message: expect.stringMatching(/^unknown tier "platinum"/) as unknown },
    ]);
  });

  it("an existing slug is a 409 conflict", async () => {
    await expectProblem(
      await plane.request("/v1/tenants", {
        method: "POST",
        json: { slug: "osprey", name: "Again", tier: "free" },
      }),
      409,
      "tenant-exists",
    );
  });

  it("unknown tenant and unknown route are 404 problems", async () => {
    await expectProblem(await plane.request("/v1/tenants/nobody"), 404, "tenant-not-found");
    await expectProblem(await plane.request("/v1/nothing-here"), 404, "route-not-found");
    await expectProblem(
      await plane.request("/v1/operations/not-a-uuid"),
      404,
      "operation-not-found",
    );
  });
});

describe("changes", () => {
  it("a quota change is accepted as an operation and applied", async () => {
    const response = await plane.request("/v1/tenants/osprey", {
      method: "PATCH",
      json: { quotas: { dbConnections: 2 } },
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as {
      tenant: { quotas: { dbConnections: number }; state: string };
      operation: { kind: string };
    };
    expect(body.operation.kind).toBe("update");
    expect(body.tenant.quotas.dbConnections).toBe(2);
    expect(body.tenant.state).toBe("active");
  });

  it("abort: an unknown operation is 404, an operation that is not a move is 409, as problem+json", async () => {
    await expectProblem(
      await plane.request("/v1/operations/00000000-0000-4000-8000-000000000000/abort", {
        method: "POST",
      }),
      404,
      "operation-not-found",
    );
    const change = await plane.request("/v1/tenants/osprey", {
      method: "PATCH",
      json: { quotas: { dbConnections: 3 } },
    });
    const { operation } = (await change.json()) as { operation: { id: string } };
    const problem = await expectProblem(
      await plane.request(`/v1/operations/${operation.id}/abort`, { method: "POST" }),
      409,
      "operation-not-a-move",
    );
    expect((problem as unknown as { detail: string }).detail).toContain(
      "only a move can be aborted",
    );
  });

  it("a storage move without a database move is refused clearly and changes nothing", async () => {
    const response = await plane.request("/v1/tenants/osprey", {
      method: "PATCH",
      json: { tier: "pro", overrides: { database: "pool" } },
    });
    const problem = await expectProblem(response, 409, "data-move-unsupported");
    expect((problem as unknown as { detail: string }).detail).toContain(
      'moving storage from "prefix" to "bucket" without a database move',
    );
    const tenant = (await (await plane.request("/v1/tenants/osprey")).json()) as {
      tier: string;
      state: string;
    };
    expect([tenant.tier, tenant.state]).toEqual(["free", "active"]);
  });

  it.each([
    ["a grace period that is not a duration", { tier: "pro", moveGrace: "soon" }, "invalid-grace"],
    [
      "a grace period on a change that moves nothing",
      { name: "O", moveGrace: "1h" },
      "invalid-grace",
    ],
  ])("refuses %s (422)", async (_, body, reason) => {
    const response = await plane.request("/v1/tenants/osprey", { method: "PATCH", json: body });
    await expectProblem(response, 422, reason);
  });

  it("POST /move: an unknown target is a 422 naming tiers and modes; the placement it is in moves nothing", async () => {
    const unknown = await plane.request("/v1/tenants/osprey/move", {
      method: "POST",
      json: { to: "platinum" },
    });
    const problem = (await expectProblem(unknown, 422, "invalid-move-target")) as unknown as {
      errors: { path: string; message: string }[];
    };
    expect(problem.errors[0]?.message).toContain(
      '"platinum" is neither a tier (free, pro, enterprise)',
    );
    const same = await plane.request("/v1/tenants/osprey/move", {
      method: "POST",
      json: { to: "free" },
    });
    expect(same.status).toBe(200);
    const body = (await same.json()) as { operation: null; message: string };
    expect(body).toMatchObject({ operation: null });
    expect(body.message).toContain("already in database mode pool (tier free): nothing to move");
    // A database mode the tier does not allow as an override is a 422 from the catalog rules.
    const mode = await plane.request("/v1/tenants/osprey/move", {
      method: "POST",
      json: { to: "schema" },
    });
    await expectProblem(mode, 422, "invalid-tenant");
  });

  it("a suspended tenant is not moved (409), and nothing changes", async () => {
    await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "sleepy", name: "Sleepy", tier: "free", lifecycle: "suspended" },
    });
    const response = await plane.request("/v1/tenants/sleepy", {
      method: "PATCH",
      json: { tier: "pro" },
    });
    await expectProblem(response, 409, "tenant-suspended");
    const tenant = (await (await plane.request("/v1/tenants/sleepy")).json()) as { tier: string };
    expect(tenant.tier).toBe("free");
  });
});

describe("operations and documents", () => {
  it("streams an operation's events as server-sent events, ending with the result", async () => {
    const created = await plane.request("/v1/tenants", {
      method: "POST",
      json: { slug: "puffin", name: "Puffin", tier: "free" },
    });
    const { operation } = (await created.json()) as {
      operation: { id: string; links: { events: string } };
    };
    const response = await plane.request(operation.links.events);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const text = await response.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe("started");
    expect(events.at(-1)).toBe("succeeded");
    expect(text).toMatch(/^id: \d+$/m);
  });

  it("serves an OpenAPI document describing the tenant routes", async () => {
    const doc = (await (await plane.request("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/tenants",
        "/v1/tenants/{slug}",
        "/v1/operations/{id}",
        "/v1/operations/{id}/events",
      ]),
    );
  });

  it("exposes Prometheus metrics for operations and the queue", async () => {
    const text = await (await plane.request("/metrics")).text();
    expect(text).toMatch(
      /^tenancy_operations_total\{kind="signup",tier="free",result="succeeded"\} \d+$/m,
    );
    expect(text).toMatch(/^tenancy_queue_depth \d+$/m);
    expect(text).toContain("tenancy_operation_duration_seconds_bucket");
  });
});
