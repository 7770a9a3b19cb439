/** Shared by the benchmarks: a throw-away embedded server, and percentiles. */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../db/embeddedPostgres.ts";

export interface BenchServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when set, otherwise an embedded server in a temp dir (removed on stop).
 * `fast` turns fsync off: fine for read benchmarks and DDL, not for commit latency.
 */
export async function benchServer(options: { fast?: boolean } = {}): Promise<BenchServer> {
  if (process.env.DATABASE_URL)
    return { url: process.env.DATABASE_URL, stop: async () => undefined };
  const root = await mkdtemp(join(tmpdir(), "tenancy-bench-"));
  await chmod(root, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: join(root, "data"),
    fast: options.fast ?? false,
  });
  return {
    url: server.url,
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function us(micros: number): string {
  return `${micros.toFixed(0)} µs`;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs a CHECKPOINT (superuser URL). */
export async function checkpointNow(url: string): Promise<void> {
  await withClient(url, (c) => c.query("CHECKPOINT"));
}

/** The server's checkpoint and WAL counters (since its statistics were reset / it was created). */
export interface WalCounters {
  /** Checkpoints performed. */
  readonly checkpoints: number;
  /** Checkpoints asked for (WAL volume past max_wal_size's trigger, or a command); PG17+. */
  readonly requested: number | null;
  /** WAL position in bytes (pg_current_wal_lsn): differences are WAL written in between. */
  readonly walBytes: number;
}

export async function walCounters(url: string): Promise<WalCounters> {
  return withClient(url, async (c) => {
    const { rows: version } = await c.query<{ v: number }>(
      "SELECT current_setting('server_version_num')::int AS v",
    );
    const sql =
      (version[0]?.v ?? 0) >= 170000
        ? "SELECT num_done::int AS n, num_requested::int AS r FROM pg_stat_checkpointer"
        : "SELECT (checkpoints_timed + checkpoints_req)::int AS n, NULL::int AS r FROM pg_stat_bgwriter";
    const { rows } = await c.query<{ n: number; r: number | null; wal: string }>(
      `SELECT s.n, s.r, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS wal FROM (${sql}) s`,
    );
    return {
      checkpoints: rows[0]?.n ?? 0,
      requested: rows[0]?.r ?? null,
      walBytes: Number(rows[0]?.wal ?? 0),
    };
  });
}

/** What happened between two readings of walCounters, for a report line. */
export function walWindow(from: WalCounters, to: WalCounters): string {
  const requested =
    from.requested === null || to.requested === null
      ? ""
      : ` (${to.requested - from.requested} requested)`;
  const mb = (to.walBytes - from.walBytes) / 1_048_576;
  return `${to.checkpoints - from.checkpoints} checkpoints${requested}, ${mb.toFixed(0)} MB of WAL`;
}
