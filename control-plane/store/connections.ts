/**
 * Connections to the control-plane database that survive the database going away: every
 * pooled connection has an `error` listener from birth (an idle or checked-out connection
 * killed by the server is dropped, never an unhandled 'error' event that ends the process),
 * and connection attempts give up after a bounded wait so requests fail fast with a 503.
 */
import pg from "pg";

export interface ControlPoolOptions {
  readonly connectionString: string;
  /** @default 20 */
  readonly max?: number;
  /** Milliseconds to wait for a new connection. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Told about connection errors (once per broken connection). @default console.error */
  readonly onError?: (error: Error) => void;
}

export function createControlPool(options: ControlPoolOptions): pg.Pool {
  const report =
    options.onError ??
    ((error: Error) =>
      console.error(`tenancy: control database connection lost: ${error.message}`));
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 20,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
  });
  // Idle connections: the pool removes the broken one and tells us.
  pool.on("error", (error) => report(error));
  // Checked-out connections: pg emits 'error' on the client when no query is running (e.g. the
  // executor's lock connection during an engine run). The holder learns of it from its next
  // query, or from its own listener; this one only keeps the process alive.
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
  });
  return pool;
}

/**
 * Ends a pool and waits until its connections are closed, not only handed to `client.end()`:
 * pg-pool's `end()` resolves once no client is left in the pool, while each connection's
 * Terminate may still be on its way. Stopping the server right after would kill those
 * backends under the clients (57P01, "connection lost" in the log). Gives up after
 * `timeoutMs` (a connection that never closes must not hold the shutdown).
 */
export async function endPoolAndWait(pool: pg.Pool, timeoutMs = 5000): Promise<void> {
  let open = pool.totalCount;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) return resolve();
    pool.on("remove", () => {
      open -= 1;
      if (open <= 0) resolve();
    });
    timer = setTimeout(resolve, timeoutMs);
  });
  await pool.end();
  await closed;
  clearTimeout(timer);
}

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01", // admin_shutdown: terminated by an administrator or a shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up / shutting down
  "53300", // too_many_connections
]);

const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection is closed|not queryable|timeout exceeded when trying to connect|Client was closed|Cannot use a pool after calling end/i;

/**
 * Whether an error means "the database cannot be reached right now" (as opposed to a bad
 * query): connection refused or reset, the backend terminated, the server starting or
 * stopping. Looks through `cause` chains and aggregate errors.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 5) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("08")))
    return true;
  if (typeof message === "string" && UNAVAILABLE_MESSAGES.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}
