/**
 * What an application needs to follow a tenant across moves, for tests and benchmarks: the
 * tenant's routing record read from the registry (as the drivers build it), and pools per
 * placement for the tenant router.
 */
import pg from "pg";
import { driverContext, routingFor } from "../../db/drivers/driverContext.ts";
import type { TenantRouting } from "../../db/drivers/types.ts";
import { findTenant } from "../../db/registry.ts";

/** The routing record of `slug`, read from the registry at `url` (a superuser URL). */
export async function registeredRouting(url: string, slug: string): Promise<TenantRouting> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const row = await findTenant(client, slug);
    if (!row) throw new Error(`tenant ${slug} is not registered`);
    return routingFor(driverContext({ adminUrl: url }), row);
  } finally {
    await client.end();
  }
}

export interface PlacementPools {
  /** The pool for a routing record's placement (`TenantRouterOptions.poolFor`). */
  readonly poolFor: (routing: TenantRouting) => pg.Pool;
  readonly close: () => Promise<void>;
}

/**
 * One pool per placement and password: `connect(routing)` says how to log in (a move into a
 * schema or dedicated database may give the role a new password, hence the password in the
 * key); `prepare` may set up a new pool (e.g. listen to its connections). Errors of idle
 * clients, and of ending a pool, are ignored: a purge ends the old placement's sessions.
 */
export function placementPools(
  connect: (routing: TenantRouting) => pg.PoolConfig & { password?: string },
  prepare: (pool: pg.Pool, routing: TenantRouting) => void = () => undefined,
): PlacementPools {
  const pools = new Map<string, pg.Pool>();
  return {
    poolFor: (routing) => {
      const config = connect(routing);
      const key = `${routing.database}/${routing.role}/${routing.schema}/${config.password ?? ""}`;
      let pool = pools.get(key);
      if (!pool) {
        pool = new pg.Pool(config);
        pool.on("error", () => undefined);
        prepare(pool, routing);
        pools.set(key, pool);
      }
      return pool;
    },
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.end().catch(() => undefined)));
    },
  };
}
