/**
 * A real control plane for tests: its own control and shared databases on the test server,
 * the HTTP API listening on a random loopback port, and workers.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import {
  loadCatalog,
  resolveTenant,
  tenantFileSchema,
  type ResolvedTenant,
  type TiersFile,
} from "../../catalog/index.ts";
import {
  startControlPlane,
  type ControlPlane,
  type ControlPlaneOptions,
} from "../../control-plane/controlPlane.ts";
import { adminUrl, withDatabase } from "./postgres.ts";

export interface TestControlPlane extends ControlPlane {
  readonly baseUrl: string;
  readonly token: string;
  readonly sharedUrl: string;
  readonly controlUrl: string;
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

export async function exampleTiers(): Promise<TiersFile> {
  const loaded = await loadCatalog("tenants");
  if (!loaded.ok) throw new Error("example catalog is invalid");
  return loaded.catalog.tiers;
}

/** A tenant of the example catalog's tiers, from a tenant file's fields. */
export async function exampleTenant(file: object): Promise<ResolvedTenant> {
  return resolveTenant(tenantFileSchema.parse(file), await exampleTiers());
}

/** `name` is the file's test database (its prefix names the extra databases and roles). */
export async function startTestControlPlane(
  name: string,
  overrides: Partial<ControlPlaneOptions> = {},
): Promise<TestControlPlane> {
  const sharedName = `${name}_shared`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${sharedName}`); // generated name, not input
  await admin.end();
  const sharedUrl = withDatabase(adminUrl(), sharedName);
  const token = randomBytes(24).toString("hex");
  const tiers = await exampleTiers();
  const plane = await startControlPlane({
    controlDatabaseUrl: withDatabase(adminUrl(), name),
    sharedDatabaseUrl: sharedUrl,
    tiers: () => tiers,
    auth: { operatorToken: token },
    rolePrefix: name,
    databasePrefix: `${name}_db`,
    concurrency: 2,
    retryDelaySeconds: 1,
    ...overrides,
  });
  const address = await plane.app!.listen({ host: "127.0.0.1", port: 0 });
  return {
    ...plane,
    baseUrl: address,
    token,
    sharedUrl,
    controlUrl: withDatabase(adminUrl(), name),
    request(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
      if (json !== undefined) headers.set("content-type", "application/json");
      return fetch(`${address}${path}`, {
        ...rest,
        headers,
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
    },
  };
}
