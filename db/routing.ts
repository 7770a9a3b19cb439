/**
 * From a routing record to connection settings: what the application needs to open a pool
 * for a tenant. `search_path` travels as a startup option, so it survives `RESET ALL` and
 * needs no extra round trip.
 */
import type { TenantRouting } from "./drivers/types.ts";
import { quoteIdent } from "./identifiers.ts";

/** pg.PoolConfig-compatible settings for one tenant. */
export interface TenantConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  /** libpq startup options: `-c search_path=...`. */
  readonly options: string;
  /** Pool size matching the tenant's connection quota (bridge/silo), to stay under the role's limit. */
  readonly max: number;
}

/**
 * Connection settings for a routing record. `password` is the tenant role's password
 * (schema/dedicated) or the application role's (pool), fetched from your secret store.
 */
export function connectionSettingsFor(
  routing: Omit<TenantRouting, "version">,
  credentials: { readonly password?: string } = {},
): TenantConnectionSettings {
  const searchPath = routing.searchPath.map(quoteIdent).join(",");
  return {
    host: routing.host,
    port: routing.port,
    database: routing.database,
    user: routing.role,
    ...(credentials.password === undefined ? {} : { password: credentials.password }),
    options: `-c search_path=${searchPath}`,
    max: routing.quotas.dbConnections,
  };
}

/** The same settings as a `postgres://` URL (password included when given). */
export function connectionStringFor(
  routing: Omit<TenantRouting, "version">,
  credentials: { readonly password?: string } = {},
): string {
  const settings = connectionSettingsFor(routing, credentials);
  const url = new URL("postgres://localhost");
  url.hostname = settings.host;
  url.port = String(settings.port);
  url.pathname = `/${encodeURIComponent(settings.database)}`;
  url.username = encodeURIComponent(settings.user);
  if (settings.password !== undefined) url.password = encodeURIComponent(settings.password);
  url.searchParams.set("options", settings.options);
  return url.toString();
}
