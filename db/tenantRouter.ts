/**
 * A tenant router: `withTenant` by slug that follows moves without a restart.
 *
 * ```ts
 * const router = createTenantRouter({
 *   resolve: (slug) => fetchRoutingRecord(slug),                 // e.g. GET /v1/tenants/:slug (not the registry: the app role cannot read it)
 *   poolFor: (routing) => poolsByPlacement(routing),             // one pg.Pool per placement
 * });
 * await router.withTenant("acme", async (client) => client.query("INSERT INTO projects (name) VALUES ('Q3')"));
 * ```
 *
 * Each transaction first runs `tenancy.assert_routing(<version>)` (same round trip budget
 * as any statement): on a placement the tenant has left it raises SQLSTATE TN002, and any
 * write there raises TN002 too. During a move's write fence, writes raise TN001. On either,
 * the router forgets the cached routing, re-reads it (after `fenceRetryDelayMs` for TN001)
 * and retries the transaction once; a second failure reaches the caller (still retryable).
 * `fn` may therefore run twice: keep it free of side effects outside the transaction.
 *
 * A routing record cached before a move can also point at a placement the move has purged
 * since (its database or its role dropped, or — schema ↔ dedicated share the role — its
 * password changed): PostgreSQL then refuses the connection itself (SQLSTATE 3D000, 28P01,
 * 28000) before `assert_routing` runs. On those the router forgets the cached routing,
 * re-reads it and retries when the record's version changed (the transaction never started,
 * so nothing ran twice); an unchanged record rethrows the error. Such a refusal does not use
 * up the move retry: a write refused by the fence (TN001) re-reads the routing before the
 * switch, and its retry can then meet the placement the switch and purge just removed — that
 * retry goes on to the new placement. At most `MAX_PLACEMENT_RETRIES` refusals per call.
 */
import type pg from "pg";
import type { TenantRouting } from "./drivers/types.ts";
import { PLATFORM_SCHEMA, quoteIdent } from "./identifiers.ts";
import { TENANT_FENCED_SQLSTATE, isTenantMoveError } from "./moves/moveErrors.ts";
import { withTenant, type WithTenantOptions } from "./tenantContext.ts";

export interface TenantRouterOptions {
  /** The tenant's current routing record (read again after a move error). */
  resolve(slug: string): Promise<TenantRouting>;
  /**
   * A pool for the placement of a routing record; cache pools by placement and password
   * yourself (a move into a schema or dedicated database may give the role a new password).
   */
  poolFor(routing: TenantRouting): Pick<pg.Pool, "connect">;
  /** Pause before retrying a write refused by a move's fence (TN001). @default 250 */
  readonly fenceRetryDelayMs?: number;
}

export interface TenantRouter {
  /** `withTenant` on the tenant's current placement; retries once after a move error. */
  withTenant<T>(
    slug: string,
    fn: (client: pg.PoolClient, routing: TenantRouting) => Promise<T>,
    options?: WithTenantOptions,
  ): Promise<T>;
  /** Forgets the cached routing of `slug` (or of every tenant). */
  invalidate(slug?: string): void;
}

/** Refused connections followed to a newer routing record in one call (each one a move). */
const MAX_PLACEMENT_RETRIES = 2;

const ASSERT_ROUTING = `SELECT ${quoteIdent(PLATFORM_SCHEMA)}.assert_routing($1::bigint)`;

export function createTenantRouter(options: TenantRouterOptions): TenantRouter {
  const cache = new Map<string, Promise<TenantRouting>>();
  const routingOf = (slug: string): Promise<TenantRouting> => {
    let cached = cache.get(slug);
    if (!cached) {
      cached = options.resolve(slug);
      cached.catch(() => cache.delete(slug));
      cache.set(slug, cached);
    }
    return cached;
  };
  return {
    async withTenant(slug, fn, withTenantOptions) {
      let moveRetried = false;
      let placementRetries = 0;
      for (;;) {
        const routing = await routingOf(slug);
        try {
          return await withTenant(
            options.poolFor(routing),
            routing.tenantId,
            async (client) => {
              await client.query(ASSERT_ROUTING, [routing.version]);
              return fn(client, routing);
            },
            withTenantOptions,
          );
        } catch (error) {
          if (isPlacementRefusal(error)) {
            cache.delete(slug);
            if (placementRetries >= MAX_PLACEMENT_RETRIES) throw error;
            if ((await routingOf(slug)).version === routing.version) throw error;
            placementRetries += 1;
            continue;
          }
          if (moveRetried || !isTenantMoveError(error)) throw error;
          moveRetried = true;
          cache.delete(slug);
          if (error.code === TENANT_FENCED_SQLSTATE) {
            await new Promise((resolve) => setTimeout(resolve, options.fenceRetryDelayMs ?? 250));
          }
        }
      }
    },
    invalidate(slug) {
      if (slug === undefined) cache.clear();
      else cache.delete(slug);
    },
  };
}

/**
 * SQLSTATEs with which PostgreSQL refuses a connection to a placement a move purged: the
 * database is gone (3D000), the role is gone or its password changed (28P01; 28000 where
 * the server does not ask for a password). Raised while connecting, so no statement ran.
 */
const PLACEMENT_REFUSED = new Set(["3D000", "28P01", "28000"]);

function isPlacementRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && PLACEMENT_REFUSED.has(code);
}
