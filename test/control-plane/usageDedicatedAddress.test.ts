/**
 * Where the usage sampler reads a dedicated tenant's database: the address in its routing
 * record (on aws a server of its own), with the shared URL's login and parameters; the shared
 * server only when no routing record of that tenant says otherwise.
 */
import { describe, expect, it } from "vitest";
import {
  dedicatedTargets,
  type RoutedAddress,
} from "../../control-plane/usage/dedicatedSources.ts";
import type { RegisteredTenant } from "../../control-plane/usage/sharedSources.ts";

const SHARED =
  "postgres://tenancy_admin:s%40cret@shared.cluster.example:5432/tenancy?sslmode=verify-full";
const TERN_ID = "0b7c6d2e-1f3a-4b5c-8d9e-0a1b2c3d4e5f";

const tern: RegisteredTenant = {
  id: TERN_ID,
  slug: "tern",
  mode: "dedicated",
  role: "tenancy_t_tern",
  schema: "app",
  database: "tenant_tern",
};
const kite: RegisteredTenant = {
  id: "11111111-2222-4333-8444-555555555555",
  slug: "kite",
  mode: "pool",
  role: "tenancy_app",
  schema: "app",
  database: "tenancy",
};

function routing(overrides: Partial<RoutedAddress> = {}): RoutedAddress {
  return {
    mode: "dedicated",
    tenantId: TERN_ID,
    host: "tenancy-tern.abc123.us-east-1.rds.amazonaws.com",
    port: 6543,
    database: "tenant_tern",
    schema: "app",
    role: "tenancy_t_tern",
    ...overrides,
  };
}

describe("dedicated database address for usage collection", () => {
  it("reads a dedicated tenant at its routing record's host, port and database, with the shared login", () => {
    const targets = dedicatedTargets(SHARED, [kite, tern], new Map([["tern", routing()]]));
    expect(targets).toEqual([
      {
        tenant: tern,
        url: "postgres://tenancy_admin:s%40cret@tenancy-tern.abc123.us-east-1.rds.amazonaws.com:6543/tenant_tern?sslmode=verify-full",
        from: "routing record",
      },
    ]);
  });

  it("falls back to the shared server under the registry's database name without a routing record", () => {
    expect(dedicatedTargets(SHARED, [tern, kite], new Map())).toEqual([
      {
        tenant: tern,
        url: "postgres://tenancy_admin:s%40cret@shared.cluster.example:5432/tenant_tern?sslmode=verify-full",
        from: "shared server",
      },
    ]);
  });

  it("ignores a routing record of another placement or another tenant id", () => {
    const shared =
      "postgres://tenancy_admin:s%40cret@shared.cluster.example:5432/tenant_tern?sslmode=verify-full";
    for (const stale of [
      routing({ mode: "schema" }),
      routing({ tenantId: "99999999-8888-4777-8666-555555555555" }),
    ]) {
      const [target] = dedicatedTargets(SHARED, [tern], new Map([["tern", stale]]));
      expect(target).toEqual({ tenant: tern, url: shared, from: "shared server" });
    }
  });

  it("does not read a tenant the shared registry holds in another mode (a move replacing its record)", () => {
    const moved: RegisteredTenant = {
      ...tern,
      mode: "pool",
      role: "tenancy_app",
      database: "tenancy",
    };
    expect(dedicatedTargets(SHARED, [moved], new Map([["tern", routing()]]))).toEqual([]);
  });

  it("reads a dedicated tenant only its routing record knows (registered on its own server)", () => {
    const targets = dedicatedTargets(
      SHARED,
      [kite],
      new Map([
        ["tern", routing({ host: "10.0.3.17", port: 5432, database: "tenant_tern" })],
        ["kite", { ...routing(), mode: "pool", tenantId: kite.id, database: "tenancy" }],
      ]),
    );
    expect(targets).toEqual([
      {
        tenant: tern,
        url: "postgres://tenancy_admin:s%40cret@10.0.3.17:5432/tenant_tern?sslmode=verify-full",
        from: "routing record",
      },
    ]);
  });
});
