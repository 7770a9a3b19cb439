/**
 * Per-tenant usage counters kept in the application process by the tenant context library.
 *
 * ```ts
 * const usage = createUsageRecorder({ pool: appPool }); // flushes every 15 s
 * await withTenant(appPool, tenantId, (client) => client.query("..."), { usage });
 * usage.countApiCall(tenantId); // from your HTTP middleware
 * ```
 *
 * `withTenant` given a recorder counts, per tenant, the statements `fn` runs, their time
 * (measured in this process, from sending to the result: it includes the network round
 * trip), the rows they returned (`rowsRead`: rows returned, not rows scanned) and the rows
 * INSERT/UPDATE/DELETE/MERGE/COPY reported (`rowsWritten`), and the largest number of the
 * tenant's transactions open at once in this process (the connections it held: its peak). The
 * counters are flushed (one INSERT of one row per active tenant) into `tenancy.usage_flush`,
 * where the control plane collects them. Nothing is sent to the database per transaction.
 *
 * `attributeConnections: true` also names each tenant transaction's connection
 * (`application_name`), so the sampler's `pg_stat_activity` sample counts a pooled tenant's
 * connections now. It is off by default: it makes the context statement larger, which cost
 * 4–6 % of a short transaction in bench/rls.ts, above the 3 % budget of recording (README).
 */
import type pg from "pg";
import { UUID_PATTERN } from "../identifiers.ts";
import { USAGE_FLUSH_TABLE } from "./usageSql.ts";

/** One tenant's counters since the last flush. */
export interface TenantCounters {
  statements: number;
  statementMicros: number;
  rowsRead: number;
  rowsWritten: number;
  transactions: number;
  apiCalls: number;
  /** Transactions of the tenant open at the same time (largest since the last flush). */
  peakConcurrency: number;
  /** Transactions open now (not flushed). */
  open: number;
}

export interface UsageRecorder {
  /** Counts API calls of a tenant (call it from the request handler or middleware). */
  countApiCall(tenantId: string, calls?: number): void;
  /** Writes the counters gathered since the last flush; returns the tenants written. */
  flush(): Promise<number>;
  /** The counters not yet flushed (a copy), by tenant id. */
  pending(): ReadonlyMap<string, Readonly<TenantCounters>>;
  /** Stops the timer and flushes one last time. */
  stop(): Promise<void>;
  /** Whether withTenant sets `application_name` for the control plane's connection count (opt-in). */
  readonly attributeConnections: boolean;
  /** @internal used by withTenant */
  readonly tenantCounters: (tenantId: string) => TenantCounters;
}

export interface UsageRecorderOptions {
  /** Where counters are flushed: a pool on the tenant database (any role may insert). */
  readonly pool: Pick<pg.Pool, "query">;
  /** Milliseconds between automatic flushes; 0 flushes only when asked. @default 15000 */
  readonly flushEveryMs?: number;
  /**
   * Set `application_name` = `tenancy:<tenantId>` for each tenant transaction (transaction-local,
   * so it is right under PgBouncer too), which lets the control plane's sampler count a pooled
   * tenant's connections at its sample (`connectionsNow`). Opt-in: it adds a second
   * `set_config` to the context statement, measured at 4–6 % of a short transaction (README,
   * Per-tenant usage). Without it a pooled tenant's peak still comes from this recorder's
   * count of its open transactions. @default false
   */
  readonly attributeConnections?: boolean;
  /** Told about a failed automatic flush (the counters are kept for the next). @default ignore */
  readonly onFlushError?: (error: unknown) => void;
}

const WRITE_COMMANDS = new Set(["INSERT", "UPDATE", "DELETE", "MERGE", "COPY"]);

export function createUsageRecorder(options: UsageRecorderOptions): UsageRecorder {
  let counters = new Map<string, TenantCounters>();
  const tenantCounters = (tenantId: string): TenantCounters => {
    let entry = counters.get(tenantId);
    if (!entry) {
      if (!UUID_PATTERN.test(tenantId)) {
        throw new TypeError(`usage: tenant id ${JSON.stringify(tenantId)} is not a uuid`);
      }
      entry = {
        statements: 0,
        statementMicros: 0,
        rowsRead: 0,
        rowsWritten: 0,
        transactions: 0,
        apiCalls: 0,
        peakConcurrency: 0,
        open: 0,
      };
      counters.set(tenantId, entry);
    }
    return entry;
  };
  let flushing: Promise<number> | undefined;
  const flushOnce = async (): Promise<number> => {
    const taken = counters;
    counters = new Map();
    // Transactions still open carry over: their tenant stays "open" in the new map.
    for (const [id, entry] of taken) {
      if (entry.open > 0) {
        const next = tenantCounters(id);
        next.open = entry.open;
        next.peakConcurrency = entry.open;
      }
    }
    const rows = [...taken].filter(
      ([, c]) => c.statements + c.transactions + c.apiCalls + c.peakConcurrency > 0,
    );
    if (rows.length === 0) return 0;
    const column = (pick: (c: TenantCounters) => number) => rows.map(([, c]) => pick(c));
    try {
      await options.pool.query(
        `INSERT INTO ${USAGE_FLUSH_TABLE} (tenant_id, statements, statement_us, rows_read,
           rows_written, transactions, api_calls, peak_concurrency)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                              $6::bigint[], $7::bigint[], $8::int[])`,
        [
          rows.map(([id]) => id),
          column((c) => c.statements),
          column((c) => Math.round(c.statementMicros)),
          column((c) => c.rowsRead),
          column((c) => c.rowsWritten),
          column((c) => c.transactions),
          column((c) => c.apiCalls),
          column((c) => c.peakConcurrency),
        ],
      );
    } catch (error) {
      // Not lost: merged back for the next flush.
      for (const [id, c] of rows) {
        const into = tenantCounters(id);
        into.statements += c.statements;
        into.statementMicros += c.statementMicros;
        into.rowsRead += c.rowsRead;
        into.rowsWritten += c.rowsWritten;
        into.transactions += c.transactions;
        into.apiCalls += c.apiCalls;
        into.peakConcurrency = Math.max(into.peakConcurrency, c.peakConcurrency);
      }
      throw error;
    }
    return rows.length;
  };
  const flush = async (): Promise<number> => {
    while (flushing) await flushing.catch(() => undefined);
    flushing = flushOnce();
    try {
      return await flushing;
    } finally {
      flushing = undefined;
    }
  };
  const every = options.flushEveryMs ?? 15_000;
  const timer =
    every > 0
      ? setInterval(() => {
          flush().catch((error: unknown) => options.onFlushError?.(error));
        }, every)
      : undefined;
  timer?.unref();
  return {
    countApiCall(tenantId, calls = 1) {
      if (!Number.isInteger(calls) || calls < 0) {
        throw new TypeError(`countApiCall: invalid count ${calls}`);
      }
      tenantCounters(tenantId).apiCalls += calls;
    },
    flush,
    attributeConnections: options.attributeConnections ?? false,
    pending() {
      return new Map([...counters].map(([id, c]) => [id, { ...c }]));
    },
    async stop() {
      if (timer) clearInterval(timer);
      await flush();
    },
    tenantCounters,
  };
}

/** The counters of the tenant transaction a client is running, while one runs. */
const recording = new WeakMap<object, () => TenantCounters>();
const wrappedClients = new WeakSet<object>();

/**
 * Counts every statement `client` runs into `countersOf()` until the returned function is
 * called. The client's `query` is wrapped once, the first time it is seen, and passes through
 * when no tenant transaction is being recorded: adding and removing a property on every
 * transaction would change the client's hidden class each time (measured: ~8 % slower).
 */
export function recordQueries(client: pg.PoolClient, countersOf: () => TenantCounters): () => void {
  if (!wrappedClients.has(client)) wrapQuery(client);
  recording.set(client, countersOf);
  return () => void recording.delete(client);
}

function wrapQuery(client: pg.PoolClient): void {
  wrappedClients.add(client);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to `client` below
  const original = client.query as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]): unknown => {
    const countersOf = recording.get(client);
    if (countersOf === undefined) return original.apply(client, args);
    // performance.now(): a double, no BigInt to allocate per statement.
    const started = performance.now();
    const outcome = original.apply(client, args);
    if (outcome instanceof Promise) {
      return outcome.then(
        (result: unknown) => {
          countResult(countersOf(), result, started);
          return result;
        },
        (error: unknown) => {
          const counters = countersOf();
          counters.statements += 1;
          counters.statementMicros += (performance.now() - started) * 1000;
          throw error;
        },
      );
    }
    // Callback or submittable (cursor, stream): counted, not timed.
    countersOf().statements += 1;
    return outcome;
  };
  client.query = wrapped as typeof client.query;
}

/** Adds one statement's result (or a multi-statement text's results) to `counters`. */
function countResult(counters: TenantCounters, result: unknown, started: number): void {
  counters.statementMicros += (performance.now() - started) * 1000;
  if (Array.isArray(result)) {
    for (const one of result as unknown[]) countOne(counters, one);
  } else {
    countOne(counters, result);
  }
}

function countOne(counters: TenantCounters, result: unknown): void {
  counters.statements += 1;
  if (result === null || typeof result !== "object") return;
  const { command, rowCount, rows } = result as pg.QueryResult;
  if (WRITE_COMMANDS.has(command)) counters.rowsWritten += rowCount ?? 0;
  else counters.rowsRead += Array.isArray(rows) ? rows.length : (rowCount ?? 0);
}
