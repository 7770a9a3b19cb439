/**
 * The per-tenant advisory lock of the control database, held on a dedicated connection for
 * the whole run of an operation. When that connection dies (terminated backend, database
 * restart) the lock is gone: the holder is told at once (`lost`, and `signal` aborts, which
 * cancels an engine step given that signal) and must stop writing for the tenant. While work it already started is still in flight, `fence` tries
 * to take the lock again on a fresh connection so that no sweep, here or in another process,
 * resumes the operation before this process has stopped touching the tenant.
 */
import type pg from "pg";

export function tenantLockKey(slug: string): string {
  return `tenancy:tenant:${slug}`;
}

/** Thrown when the tenant lock's connection died during a run. */
export class TenantLockLost extends Error {
  constructor(readonly slug: string) {
    super(`lost the lock of tenant ${slug} (its database connection ended)`);
    this.name = "TenantLockLost";
  }
}

export interface TenantLock {
  readonly slug: string;
  /** The lock's connection: the run's only connection. */
  readonly client: pg.PoolClient;
  readonly lost: boolean;
  /** Aborted when the lock is lost: pass it to work that must stop then (an engine step). */
  readonly signal: AbortSignal;
  /** Throws {@link TenantLockLost} once the lock is gone. */
  assertHeld(): void;
  /** Awaits `work`; if the lock is lost meanwhile, holds a replacement lock until it settles. */
  fence<T>(work: Promise<T>): Promise<T>;
  release(): Promise<void>;
}

export interface TenantLockOptions {
  /** Milliseconds between attempts to re-take a lost lock while work is in flight. @default 500 */
  readonly fenceRetryMs?: number;
}

/** Takes the tenant's lock without waiting; undefined when another session holds it. */
export async function tryTenantLock(
  pool: pg.Pool,
  slug: string,
  options: TenantLockOptions = {},
): Promise<TenantLock | undefined> {
  const key = tenantLockKey(slug);
  const client = await pool.connect();
  let lost = false;
  let signalLoss: () => void = () => undefined;
  const whenLost = new Promise<void>((resolve) => (signalLoss = resolve));
  const loss = new AbortController();
  const onGone = () => {
    if (lost) return;
    lost = true;
    signalLoss();
    loss.abort(new TenantLockLost(slug));
  };
  client.on("error", onGone);
  client.on("end", onGone);
  let locked = false;
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock(hashtext($1)) AS locked",
      [key],
    );
    locked = rows[0]?.locked === true;
  } finally {
    if (!locked) {
      client.off("error", onGone);
      client.off("end", onGone);
      client.release(lost);
    }
  }
  if (!locked) return undefined;

  const lock: TenantLock = {
    slug,
    client,
    get lost() {
      return lost;
    },
    signal: loss.signal,
    assertHeld() {
      if (lost) throw new TenantLockLost(slug);
    },
    async fence<T>(work: Promise<T>): Promise<T> {
      let settled = false;
      const done = work.finally(() => (settled = true));
      done.catch(() => undefined);
      const guard = (async () => {
        await Promise.race([done.catch(() => undefined), whenLost]);
        if (settled) return;
        await holdWhile(pool, key, () => settled, options.fenceRetryMs ?? 500);
      })();
      try {
        return await done;
      } finally {
        await guard.catch(() => undefined);
      }
    },
    async release() {
      client.off("error", onGone);
      client.off("end", onGone);
      if (!lost) {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [key]).catch(onGone);
      }
      // A broken connection is destroyed, never handed to the next user.
      client.release(lost);
    },
  };
  return lock;
}

/** Re-takes the lock on fresh connections until `done()`; releases it then. */
async function holdWhile(
  pool: pg.Pool,
  key: string,
  done: () => boolean,
  retryMs: number,
): Promise<void> {
  while (!done()) {
    let client: pg.PoolClient | undefined;
    let broken = false;
    try {
      client = await pool.connect();
      client.on("error", () => (broken = true));
      const { rows } = await client.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_lock(hashtext($1)) AS locked",
        [key],
      );
      if (rows[0]?.locked) {
        while (!done() && !broken) await delay(retryMs / 5);
        if (!broken) await client.query("SELECT pg_advisory_unlock(hashtext($1))", [key]);
        if (done()) return;
      }
    } catch {
      broken = true;
    } finally {
      client?.release(broken);
    }
    if (!done()) await delay(retryMs);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
