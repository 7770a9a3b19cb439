/**
 * An application writing to one tenant while the tenant moves: the tenant router (routing
 * from the registry, re-read after TN001/TN002), connections as the routing record's role
 * (a superuser connection that `SET ROLE`s to it, so no tenant password is needed: RLS and
 * grants apply as to that role). Records every acknowledged write and every error.
 */
import type { TenantRouting } from "../../db/drivers/types.ts";
import { quoteIdent } from "../../db/identifiers.ts";
import { createTenantRouter, type TenantRouter } from "../../db/tenantRouter.ts";
import { withDatabase } from "./postgres.ts";
import { placementPools, registeredRouting } from "./tenantRouting.ts";

export interface TenantDatabase {
  readonly router: TenantRouter;
  routing(slug: string): Promise<TenantRouting>;
  close(): Promise<void>;
}

export function tenantDatabase(sharedUrl: string): TenantDatabase {
  const routing = (slug: string) => registeredRouting(sharedUrl, slug);
  const pools = placementPools(
    (r) => ({ connectionString: withDatabase(sharedUrl, r.database), max: 2 }),
    (pool, r) =>
      pool.on("connect", (client) => {
        client.on("error", () => undefined);
        void client
          .query(`SET ROLE ${quoteIdent(r.role)}; SET search_path TO ${quoteIdent(r.schema)}`)
          .catch(() => undefined);
      }),
  );
  return {
    router: createTenantRouter({
      resolve: routing,
      poolFor: pools.poolFor,
      fenceRetryDelayMs: 100,
    }),
    routing,
    close: pools.close,
  };
}

export interface Writer {
  /** Names of the projects whose insert was acknowledged (committed). */
  readonly acknowledged: string[];
  readonly errors: string[];
  /** Longest time between two acknowledged writes, in ms. */
  readonly longestGapMs: () => number;
  stop(): Promise<void>;
}

/** Inserts a project (`<prefix>-<n>`) for `slug` in a loop until stopped. */
export function startWriter(db: TenantDatabase, slug: string, prefix: string): Writer {
  const acknowledged: string[] = [];
  const errors: string[] = [];
  let running = true;
  let last = Date.now();
  let longest = 0;
  const loop = (async () => {
    for (let n = 0; running; n += 1) {
      const name = `${prefix}-${n}`;
      try {
        await db.router.withTenant(slug, (client) =>
          client.query("INSERT INTO projects (name) VALUES ($1)", [name]),
        );
        const now = Date.now();
        longest = Math.max(longest, now - last);
        last = now;
        acknowledged.push(name);
      } catch (error) {
        errors.push(`${(error as { code?: string }).code ?? ""} ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    acknowledged,
    errors,
    longestGapMs: () => longest,
    async stop() {
      running = false;
      await loop;
    },
  };
}
