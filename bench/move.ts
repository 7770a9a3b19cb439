/**
 * A tenant move under load: a pooled tenant with N rows over three tables (projects ← tasks ←
 * comments: composite foreign keys, the comments' bigserial sequence, two secondary indexes on
 * tasks and one on comments) moves pool → schema → pool → dedicated (`--to`), with the library's own
 * entry point (`moveTenant`, as the control plane's move operation calls it), while
 *
 * - a writer inserts and updates that tenant's rows continuously through the tenant router
 *   (it follows the move: TN001 during the fence, TN002 / new routing after the switch);
 * - a second pooled tenant runs its own load (read, update, insert per transaction).
 *
 * Prints per move: the write pause (longest gap between the writer's acknowledged writes,
 * goal ≤ 2 s), whether every acknowledged write is in the new placement, the verified
 * checksums, the neighbour's p95 during the move vs its baseline just before (goal ≤ 1.2×),
 * copy time and rows/s, and the time of each step. The old placement is kept read-only
 * (grace) and purged after the figures are taken; the purge is timed separately.
 *
 *   node --import tsx bench/move.ts [--rows 1000000] [--to schema,pool,dedicated] [--batch 5000]
 *        [--copy-pace N]   (after each copy batch, pause N times its duration; default:
 *                           the library's DEFAULT_COPY_PACE)
 *        [--baseline 15] [--pace 2] [--neighbours 2]
 *
 * Uses DATABASE_URL when set (a superuser URL), else starts an embedded PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { bootstrapDatabase } from "../db/bootstrap.ts";
import { createTenantDatabaseDriver } from "../db/drivers/index.ts";
import {
  DATABASE_MODES,
  type DatabaseMode,
  type DriverOptions,
  type TenantRouting,
} from "../db/drivers/types.ts";
import { migrateAll } from "../db/migrations/migrateAll.ts";
import {
  DEFAULT_MIGRATIONS_DIR,
  defineMigrations,
  loadMigrationDirectory,
} from "../db/migrations/migrationSet.ts";
import {
  DEFAULT_COPY_PACE,
  moveTenant,
  purgeMovedTenant,
  type MoveProgress,
} from "../db/moves/moveTenant.ts";
import { connectionSettingsFor } from "../db/routing.ts";
import { createTenantRouter } from "../db/tenantRouter.ts";
import { withDatabaseName } from "../db/transaction.ts";
import {
  sleep,
  startMovingWriter,
  startNeighbour,
  type MovingWriter,
  type NeighbourLoad,
} from "./moveLoad.ts";
import {
  placementPools,
  registeredRouting,
  type PlacementPools,
} from "../test/support/tenantRouting.ts";
import { benchServer, checkpointNow, percentile, walCounters, walWindow } from "./support.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    to: { type: "string", default: "schema,pool,dedicated" },
    batch: { type: "string", default: "5000" },
    "copy-pace": { type: "string" },
    baseline: { type: "string", default: "15" },
    pace: { type: "string", default: "2" },
    neighbours: { type: "string", default: "2" },
  },
});
const ROWS = Number(values.rows);
const BATCH = Number(values.batch);
const COPY_PACE =
  values["copy-pace"] === undefined ? DEFAULT_COPY_PACE : Number(values["copy-pace"]);
const BASELINE_MS = Number(values.baseline) * 1000;
const PACE_MS = Number(values.pace);
const NEIGHBOURS = Number(values.neighbours);
const TARGETS = values.to.split(",").map((t) => t.trim());
for (const t of TARGETS) {
  if (!(DATABASE_MODES as readonly string[]).includes(t)) {
    throw new Error(`--to takes ${DATABASE_MODES.join("|")} (comma-separated), got ${t}`);
  }
}
if (!(ROWS >= 100) || !(BATCH >= 1) || !(BASELINE_MS >= 1000)) {
  throw new Error("--rows ≥ 100, --batch ≥ 1, --baseline ≥ 1 (seconds)");
}

const COMMENTS_MIGRATION = `
CREATE TABLE comments (
  tenant_id uuid NOT NULL DEFAULT tenancy.current_tenant_id(),
  id bigserial,
  task_id uuid NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX comments_tenant_task_idx ON comments (tenant_id, task_id);`;

const QUOTAS = { dbConnections: 20, statementTimeoutMs: 600_000 };

async function main(): Promise<void> {
  const server = await benchServer();
  const suffix = randomBytes(4).toString("hex");
  const database = `bench_move_${suffix}`;
  const prefix = `bench_${suffix}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = withDatabaseName(server.url, database);
  const appPassword = randomBytes(12).toString("hex");
  const tenantPassword = randomBytes(12).toString("hex");
  let pools: PlacementPools | undefined;
  try {
    const migrations = [
      ...(await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR)),
      ...defineMigrations([{ id: "0100_comments", sql: COMMENTS_MIGRATION }]),
    ];
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    const { roles } = await bootstrapDatabase(setup, { rolePrefix: prefix, appPassword });
    await migrateAll({ url, migrations, rolePrefix: prefix });
    const options = { adminUrl: url, rolePrefix: prefix, databasePrefix: database, migrations };
    const driver = createTenantDatabaseDriver(options);
    const big = (await driver.create({ slug: "big", mode: "pool", quotas: QUOTAS })).routing;
    const other = (await driver.create({ slug: "other", mode: "pool", quotas: QUOTAS })).routing;
    const t0 = performance.now();
    await seed(setup, big.tenantId, ROWS);
    await seed(setup, other.tenantId, Math.max(1000, Math.min(ROWS, 50_000)));
    await setup.query("VACUUM ANALYZE");
    const seededTasks = (
      await setup.query<{ id: string }>(
        "SELECT id FROM app.tasks WHERE tenant_id = $1 ORDER BY random() LIMIT 2000",
        [big.tenantId],
      )
    ).rows.map((r) => r.id);
    const otherTasks = (
      await setup.query<{ id: string; project: string }>(
        "SELECT id, project_id AS project FROM app.tasks WHERE tenant_id = $1 ORDER BY random() LIMIT 2000",
        [other.tenantId],
      )
    ).rows;
    await setup.end();
    console.log(
      `seeded tenant big: ${ROWS.toLocaleString("en")} rows (projects 10 %, tasks 30 %, comments 60 %) in ${seconds(performance.now() - t0)}; neighbour: ${Math.max(1000, Math.min(ROWS, 50_000)).toLocaleString("en")} rows`,
    );

    const resolve = (slug: string) => registeredRouting(url, slug);
    pools = placementPools((routing) => ({
      ...connectionSettingsFor(routing, {
        password: routing.role === roles.app ? appPassword : tenantPassword,
      }),
      max: 2,
    }));
    const { poolFor } = pools;
    const router = createTenantRouter({ resolve, poolFor, fenceRetryDelayMs: 100 });
    const writer = startMovingWriter(router, "big", seededTasks, PACE_MS);
    const neighbour = startNeighbour(poolFor(other), other.tenantId, otherTasks, NEIGHBOURS);
    await sleep(2000);
    const totals: string[] = [];
    try {
      for (const [index, to] of TARGETS.entries()) {
        const line = await runMove(index, to as DatabaseMode, options, tenantPassword, {
          writer,
          neighbour,
        });
        totals.push(line);
      }
    } finally {
      await writer.stop();
      await neighbour.stop();
    }
    console.log(`\nsummary\n${totals.join("\n")}`);
    const final = await resolve("big");
    const verifier = new pg.Client({ connectionString: withDatabaseName(url, final.database) });
    await verifier.connect();
    try {
      const missing = await missingWrites(verifier, final, writer);
      console.log(
        `\nwriter: ${writer.acknowledged.length} acknowledged transactions, errors ${JSON.stringify(Object.fromEntries(writer.errors))}; ` +
          `acknowledged writes missing at the end: ${missing}` +
          (writer.unexpected.length
            ? `; unexpected: ${writer.unexpected.slice(0, 3).join(" | ")}`
            : ""),
      );
      console.log(`neighbour errors: ${neighbour.errors.length}`);
    } finally {
      await verifier.end();
    }
  } finally {
    await pools?.close();
    const dbs = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1",
      [`${database}%`],
    );
    for (const { datname } of dbs.rows) {
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    const leftRoles = await admin.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
      [`${prefix}\\_%`],
    );
    for (const { rolname } of leftRoles.rows) await admin.query(`DROP ROLE IF EXISTS "${rolname}"`);
    await admin.end();
    await server.stop();
  }
}

/** Projects (10 %), three tasks each (30 %), two comments per task (60 %). */
async function seed(client: pg.Client, tenantId: string, rows: number): Promise<void> {
  const projects = Math.max(1, Math.floor(rows / 10));
  await client.query(
    `INSERT INTO app.projects (tenant_id, name) SELECT $1, 'seed-' || g FROM generate_series(1, $2::int) g`,
    [tenantId, projects],
  );
  await client.query(
    `INSERT INTO app.tasks (tenant_id, project_id, title, due_on)
     SELECT p.tenant_id, p.id, 'task ' || k, current_date + k
       FROM app.projects p, generate_series(1, 3) k WHERE p.tenant_id = $1`,
    [tenantId],
  );
  await client.query(
    `INSERT INTO app.comments (tenant_id, task_id, body)
     SELECT t.tenant_id, t.id, 'comment ' || k || ' on ' || t.title
       FROM app.tasks t, generate_series(1, 2) k WHERE t.tenant_id = $1
      LIMIT $2::int`,
    [tenantId, rows - projects * 4],
  );
}

interface Load {
  readonly writer: MovingWriter;
  readonly neighbour: NeighbourLoad;
}

async function runMove(
  index: number,
  to: DatabaseMode,
  options: DriverOptions,
  password: string,
  { writer, neighbour }: Load,
): Promise<string> {
  const label = `move ${index + 1}`;
  console.log(
    `\n${label}: big → ${to}; copy pace ${COPY_PACE}; baseline ${BASELINE_MS / 1000} s first`,
  );
  // Start both windows without a pending checkpoint: the seed's (or the previous purge's) WAL
  // would otherwise trigger one inside the move, whose full-page writes and flushes the
  // baseline never saw. Checkpoints inside either window are counted and printed.
  await checkpointNow(options.adminUrl);
  const atBaseline = await walCounters(options.adminUrl);
  neighbour.phase(`${label} baseline`);
  await sleep(BASELINE_MS);
  const atMove = await walCounters(options.adminUrl);
  neighbour.phase(`${label} move/start`);
  const steps: { at: number; progress: MoveProgress }[] = [];
  const started = performance.now();
  const result = await moveTenant({
    ...options,
    slug: "big",
    to,
    password,
    batchSize: BATCH,
    copyPace: COPY_PACE,
    graceMs: 3_600_000,
    onProgress: (progress) => {
      steps.push({ at: performance.now(), progress });
      neighbour.phase(`${label} move/${progress.step}`);
    },
  });
  const ended = performance.now();
  neighbour.phase(`${label} after`);
  const afterMove = await walCounters(options.adminUrl);
  await sleep(3000); // writes on the new placement
  const pause = writer.longestGap(started, ended + 3000);
  const purgeStarted = performance.now();
  neighbour.phase(`${label} purge`);
  const purge = await purgeMovedTenant({ ...options, slug: "big", force: true });
  const purgeMs = performance.now() - purgeStarted;
  neighbour.phase(`${label} idle`);

  const timeline = stepTimes(steps, started);
  const copy = steps.find((s) => s.progress.step === "catch-up")?.progress.detail as
    { copiedRows: number; copyMs: number } | undefined;
  const equal = result.tables.every(
    (t) => t.source.rows === t.target.rows && t.source.checksum === t.target.checksum,
  );
  const base = percentile(sorted(neighbour.samples(`${label} baseline`)), 95);
  const moving = neighbour.samplesUnder(`${label} move/`);
  const during = percentile(sorted(moving), 95);
  const byStep = [...new Set(steps.map((s) => s.progress.step))]
    .map((step) => [step, neighbour.samples(`${label} move/${step}`)] as const)
    .filter(([, list]) => list.length > 0)
    .map(
      ([step, list]) =>
        `${step} ${(percentile(sorted(list), 95) / base).toFixed(2)}× (${list.length} tx)`,
    );
  const settled = neighbour.samples(`${label} after`);
  const purging = percentile(sorted(neighbour.samples(`${label} purge`)), 95);
  const pauseAt = steps.findLast((s) => s.at <= pause.endedAt)?.progress.step ?? "?";
  console.log(`  steps: ${timeline}`);
  for (const t of result.tables) {
    console.log(
      `  ${t.table}: ${t.target.rows} rows, checksum ${t.target.checksum} (source ${t.source.rows}, ${t.source.checksum})`,
    );
  }
  const rate = copy ? Math.round(copy.copiedRows / (copy.copyMs / 1000)) : 0;
  const lines = [
    `  copy: ${copy?.copiedRows ?? "?"} rows in ${seconds(copy?.copyMs ?? 0)} = ${rate.toLocaleString("en")} rows/s; whole move ${seconds(ended - started)}; fenced ${result.fencedMs} ms`,
    `  write pause (longest gap between acknowledged writes): ${seconds(pause.ms)} (ended during/after '${pauseAt}'; goal ≤ 2 s)`,
    `  checksums equal: ${equal}; routing version ${result.routing.version}`,
    `  neighbour p95: baseline ${base.toFixed(1)} ms (${neighbour.samples(`${label} baseline`).length} tx), during the move ${during.toFixed(1)} ms (${moving.length} tx) = ${(during / base).toFixed(2)}× (goal ≤ 1.2×)`,
    `  neighbour p95 by step (× baseline): ${byStep.join(", ")}`,
    // The pooled tables lose or gain the tenant's rows: this window tells the move's own cost
    // from the neighbour's new normal.
    `  neighbour p95 in the ${seconds(3000)} after the move, old placement not yet purged: ${(percentile(sorted(settled), 95) / base).toFixed(2)}× (${settled.length} tx)`,
    `  baseline: ${walWindow(atBaseline, atMove)}; move: ${walWindow(atMove, afterMove)}`,
    `  purge of the old placement: ${seconds(purgeMs)}, verified ${purge?.verified ?? "?"}; neighbour p95 during it ${purging.toFixed(1)} ms`,
  ];
  for (const l of lines) console.log(l);
  return `${label} ${result.from}→${to}: pause ${seconds(pause.ms)}, copy ${rate.toLocaleString("en")} rows/s, neighbour p95 ×${(during / base).toFixed(2)}, checksums equal ${equal}`;
}

/** Every acknowledged write of the writer, in the tenant's current placement. */
async function missingWrites(
  client: pg.Client,
  routing: TenantRouting,
  writer: MovingWriter,
): Promise<number> {
  const s = `"${routing.schema}"`;
  const projects = new Set(
    (
      await client.query<{ name: string }>(
        `SELECT name FROM ${s}.projects WHERE tenant_id = $1 AND name LIKE 'w-%'`,
        [routing.tenantId],
      )
    ).rows.map((r) => r.name),
  );
  const comments = new Set(
    (
      await client.query<{ id: string }>(
        `SELECT id::text FROM ${s}.comments WHERE tenant_id = $1 AND body LIKE 'upd-%'`,
        [routing.tenantId],
      )
    ).rows.map((r) => r.id),
  );
  const titles = new Map(
    (
      await client.query<{ id: string; title: string }>(
        `SELECT id, title FROM ${s}.tasks WHERE tenant_id = $1 AND title LIKE 'upd-%'`,
        [routing.tenantId],
      )
    ).rows.map((r) => [r.id, r.title]),
  );
  const lastTitle = new Map<string, string>();
  let missing = 0;
  for (const write of writer.acknowledged) {
    if (!projects.has(write.project)) missing += 1;
    if (!comments.has(write.comment)) missing += 1;
    lastTitle.set(write.updatedTask, write.title);
  }
  for (const [task, title] of lastTitle) if (titles.get(task) !== title) missing += 1;
  return missing;
}

function stepTimes(steps: readonly { at: number; progress: MoveProgress }[], started: number) {
  const firstAt = new Map<string, number>();
  for (const s of steps) if (!firstAt.has(s.progress.step)) firstAt.set(s.progress.step, s.at);
  return [...firstAt.entries()].map(([step, at]) => `${step} +${seconds(at - started)}`).join(", ");
}

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

await main();
