/**
 * Ending the control pool before the embedded server stops: `endPoolAndWait` returns only
 * once every connection of the pool has closed and the server has no backend left for them (pg-pool's own `end()`
 * resolves while their Terminate may still be in flight; a server stopped then kills those
 * backends under the clients and the log says "connection lost").
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createControlPool, endPoolAndWait } from "../../control-plane/store/connections.ts";
import { useTestDatabase } from "../support/postgres.ts";

const db = useTestDatabase();

/** Backends with that application name, asked on an open session (no connect delay). */
async function backendsNamed(admin: pg.Client, name: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
    [name],
  );
  return rows[0]?.n ?? -1;
}

describe("endPoolAndWait", () => {
  it("returns once every connection of the pool is gone from the server, idle or released late", async () => {
    const admin = new pg.Client({ connectionString: db.current.url });
    await admin.connect();
    for (let round = 0; round < 5; round += 1) {
      const name = `pool-end-${process.pid}-${round}`;
      const url = new URL(db.current.url);
      url.searchParams.set("application_name", name);
      const errors: Error[] = [];
      const pool = createControlPool({
        connectionString: url.toString(),
        onError: (error) => errors.push(error),
      });
      const clients = await Promise.all(Array.from({ length: 6 }, () => pool.connect()));
      let ended = 0; // connections whose socket has closed ('end' of the pg client)
      for (const client of clients) client.once("end", () => (ended += 1));
      for (const client of clients.slice(0, 4)) client.release(); // idle at end()
      expect(await backendsNamed(admin, name)).toBe(6);
      const ending = endPoolAndWait(pool);
      setTimeout(() => {
        for (const client of clients.slice(4)) client.release(); // checked out at end()
      }, 50);
      await ending;
      expect(ended).toBe(6);
      expect(await backendsNamed(admin, name)).toBe(0);
      expect(errors).toEqual([]);
    }
    await admin.end();
  });
});
