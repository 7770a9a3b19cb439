/**
 * The setting of the mover's tests (moves.test.ts, dedicatedMoves.test.ts): the file's database
 * bootstrapped and migrated with the shipped tenant migrations plus an `events` table, a
 * driver, a `move` with known tenant passwords, and a tenant router that logs in as the
 * routing record's role, so every write goes through RLS and grants as an application's.
 */
import type pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { createTenantDatabaseDriver, type TenantDatabaseDriver } from "../../db/drivers/index.ts";
import type { DatabaseMode, TenantRouting } from "../../db/drivers/types.ts";
import { migrateAll } from "../../db/migrations/migrateAll.ts";
import {
  DEFAULT_MIGRATIONS_DIR,
  defineMigrations,
  loadMigrationDirectory,
  type TenantMigration,
} from "../../db/migrations/migrationSet.ts";
import { moveTenant, type MoveOptions } from "../../db/moves/moveTenant.ts";
import { connectionSettingsFor } from "../../db/routing.ts";
import { createTenantRouter, type TenantRouter } from "../../db/tenantRouter.ts";
import { withDatabaseName } from "../../db/transaction.ts";
import { queryRows, type TestDatabase } from "../support/postgres.ts";
import { placementPools, registeredRouting } from "../support/tenantRouting.ts";
import { bootstrapped, type Bootstrapped } from "./fixtures.ts";

export interface MoveTestDatabase {
  /** The bootstrap's roles and the application pool (available inside tests). */
  readonly env: Bootstrapped;
  readonly driver: TenantDatabaseDriver;
  readonly migrations: readonly TenantMigration[];
  /** Role → password of the logins the router uses (the app role and moved tenants' roles). */
  readonly passwords: Map<string, string>;
  readonly router: TenantRouter;
  readonly driverOptions: () => {
    adminUrl: string;
    rolePrefix: string;
    databasePrefix: string;
    migrations: readonly TenantMigration[];
  };
  /** A move with no grace and batches of 100; the same password for `slug` on every move. */
  readonly move: (
    slug: string,
    to: DatabaseMode,
    extra?: Partial<MoveOptions>,
  ) => ReturnType<typeof moveTenant>;
  /** A pool (max 4) logged in as the routing's role with its known password. */
  readonly poolFor: (routing: TenantRouting) => pg.Pool;
  readonly routingOf: (slug: string) => Promise<TenantRouting>;
  /** A superuser query on `database` (the file's database when omitted). */
  readonly superQuery: <T extends pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ) => Promise<T[]>;
}

/** Registers the hooks that set the file's database up for moves (and close its pools). */
export function useMoveTestDatabase(db: { readonly current: TestDatabase }): MoveTestDatabase {
  let env: Bootstrapped | undefined;
  let driver: TenantDatabaseDriver | undefined;
  let migrations: TenantMigration[] | undefined;
  const passwords = new Map<string, string>();
  const pools = placementPools((routing) => ({
    ...connectionSettingsFor(routing, { password: passwords.get(routing.role) ?? "" }),
    max: 4,
  }));
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the move test database is only ready inside tests");
    return value;
  };
  const driverOptions = () => ({
    adminUrl: db.current.url,
    rolePrefix: db.current.rolePrefix,
    databasePrefix: db.current.name,
    migrations: ready(migrations),
  });
  const routingOf = (slug: string) => registeredRouting(db.current.url, slug);

  beforeAll(async () => {
    env = await bootstrapped(db.current, 8);
    migrations = [
      ...(await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR)),
      ...defineMigrations([
        {
          id: "0100_events",
          sql: "CREATE TABLE events (tenant_id uuid NOT NULL DEFAULT tenancy.current_tenant_id(), id bigserial, body text NOT NULL, PRIMARY KEY (tenant_id, id));",
        },
      ]),
    ];
    await migrateAll({ url: db.current.url, migrations, rolePrefix: db.current.rolePrefix });
    driver = createTenantDatabaseDriver(driverOptions());
    passwords.set(env.roles.app, env.appPassword);
  });
  afterAll(async () => {
    await pools.close();
    await env?.close();
  });

  return {
    get env() {
      return ready(env);
    },
    get driver() {
      return ready(driver);
    },
    get migrations() {
      return ready(migrations);
    },
    passwords,
    router: createTenantRouter({
      resolve: routingOf,
      poolFor: pools.poolFor,
      fenceRetryDelayMs: 100,
    }),
    driverOptions,
    move: (slug, to, extra = {}) => {
      const password = `pw-${slug}-0123456789abcdef`;
      passwords.set(`${db.current.rolePrefix}_t_${slug}`, password);
      return moveTenant({
        ...driverOptions(),
        slug,
        to,
        graceMs: 0,
        batchSize: 100,
        password,
        ...extra,
      });
    },
    poolFor: pools.poolFor,
    routingOf,
    superQuery: <T extends pg.QueryResultRow>(
      sql: string,
      params: unknown[] = [],
      database?: string,
    ) =>
      queryRows<T>(
        database ? withDatabaseName(db.current.url, database) : db.current.url,
        sql,
        params,
      ),
  };
}
