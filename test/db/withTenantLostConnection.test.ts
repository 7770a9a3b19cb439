/**
 * The server ends a tenant's connection while `withTenant` holds it between two statements
 * (a purge after a tier move, pg_terminate_backend, a restart). The application must get an
 * error from withTenant, not lose its process: a checked-out pg client that emits 'error'
 * with no listener throws it as an uncaught exception.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../../db/tenantContext.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { type Bootstrapped, loginUrl, protectedApp, uuid, withAdmin } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
let pool: pg.Pool;
const TENANT = uuid();
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => void uncaught.push(error);

beforeAll(async () => {
  env = await protectedApp(
    db.current,
    `CREATE TABLE notes (tenant_id uuid NOT NULL, n int NOT NULL, PRIMARY KEY (tenant_id, n))`,
  );
  pool = new pg.Pool({
    connectionString: loginUrl(db.current.url, env.roles.app, env.appPassword),
  });
  pool.on("error", () => undefined); // idle connections are the pool's business, not this test's
  process.prependListener("uncaughtException", onUncaught);
});
afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  await pool.end();
  await env.close();
});

describe("withTenant when the server ends its connection mid-transaction", () => {
  it("rejects with the connection's error, never an uncaught exception, and the pool goes on", async () => {
    const outcome = await withTenant(pool, TENANT, async (client) => {
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await withAdmin(db.current, (admin) =>
        admin.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]),
      );
      // The server's goodbye arrives while no statement is running: only an 'error' listener
      // on the client can take it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.query("INSERT INTO notes VALUES (tenancy.current_tenant_id(), 1)");
    }).then(
      () => "committed",
      (error: Error) => error.message,
    );
    expect(outcome).not.toBe("committed");
    expect(uncaught).toEqual([]);
    // The broken connection was destroyed, not returned: the next transaction works.
    const count = await withTenant(pool, TENANT, async (client) => {
      await client.query("INSERT INTO notes VALUES (tenancy.current_tenant_id(), 2)");
      return (await client.query<{ n: string }>("SELECT count(*) AS n FROM notes")).rows[0]!.n;
    });
    expect(count).toBe("1");
  });
});
