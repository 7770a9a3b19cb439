/**
 * Composition root: the control-plane store, the shared tenant database, the job queue, the
 * workers and the HTTP API, wired from one options object. The service and the workers may
 * run in one process (the default) or separately against the same database.
 */
import type { FastifyInstance } from "fastify";
import type PgBoss from "pg-boss";
import pg from "pg";
import { createControlPool, endPoolAndWait } from "./store/connections.ts";
import type { TiersFile } from "../catalog/index.ts";
import { bootstrapDatabase } from "../db/bootstrap.ts";
import { createTenantDatabaseDriver } from "../db/drivers/index.ts";
import { migrateSchemas } from "../db/migrations/migrateSchemas.ts";
import { DEFAULT_MIGRATIONS_DIR, loadMigrationDirectory } from "../db/migrations/migrationSet.ts";
import { buildApp } from "./http/app.ts";
import type { AuthOptions } from "./http/auth.ts";
import { createMetrics } from "./http/metrics.ts";
import { createExecutor } from "./jobs/executor.ts";
import { createMover } from "./jobs/moveOperation.ts";
import { createPurgeQueue, schedulePurge, startPurgeWorker } from "./jobs/movePurges.ts";
import { createProvisioner } from "./jobs/provisioner.ts";
import { readyJobCount, startQueue } from "./jobs/queue.ts";
import { startWorker, type Worker } from "./jobs/worker.ts";
import type { StackRunner } from "./runner/lazyRunner.ts";
import { migrateControlPlane } from "./store/migrations.ts";
import { upgradeStoredRoutings } from "./store/storedRouting.ts";
import { createTenantService, type TenantService } from "./service/tenantService.ts";
import { kubeQuotaReader, type KubeAccess } from "./usage/kubeQuotas.ts";
import { startUsageJob, type UsageJob } from "./usage/usageJob.ts";
import { registerUsageMetrics } from "./usage/usageMetrics.ts";

export interface ControlPlaneOptions {
  /** Control-plane database (store + job queue). */
  readonly controlDatabaseUrl: string;
  /** Superuser URL of the shared tenant database (pooled data, bridge schemas, registry). */
  readonly sharedDatabaseUrl: string;
  readonly tiers: () => TiersFile;
  /** The operator's price table for cost estimates (read at each request). */
  readonly pricingFile?: string;
  readonly auth: AuthOptions;
  /** Stack runner for bridge/silo tenants; without one they fail with a clear reason. */
  readonly runner?: StackRunner;
  /** Operations run in parallel by this process's workers; 0 runs no worker. @default 4 */
  readonly concurrency?: number;
  /** Serve HTTP. @default true */
  readonly http?: boolean;
  readonly logger?: boolean;
  /** Role prefix of the shared database's managed roles. @default "tenancy" */
  readonly rolePrefix?: string;
  /** Prefix of dedicated tenant databases. @default "tenant" */
  readonly databasePrefix?: string;
  /** Retry delay of retryable engine errors in seconds. @default 5 */
  readonly retryDelaySeconds?: number;
  /** Seconds between sweeps for operations to resume. @default 15 */
  readonly sweepSeconds?: number;
  /** Delay of the safety-net job of an inline (pooled) operation. @default 30 */
  readonly fallbackDelaySeconds?: number;
  /** Tenants per metric exported to Prometheus (`tenancy_tenant_usage`). @default 20 */
  readonly usageTopN?: number;
  /**
   * Per-tenant usage collection (a job every minute, run by this process's workers); false
   * turns it off. @default on when workers run, without Kubernetes
   */
  readonly usage?:
    | false
    | {
        readonly cron?: string;
        /** @default 3600 */
        readonly storageEverySeconds?: number;
        /** Where namespace quotas are read; without it no quota usage is collected. */
        readonly kube?: KubeAccess;
      };
  /** Rows per copy batch of a tenant move. @default 5000 */
  readonly moveBatchSize?: number;
  /**
   * Pause after each copy batch of a tenant move, as a multiple of the batch's duration: the
   * other tenants' latency against the move's duration (db/moves/moveTenant.ts).
   * @default DEFAULT_COPY_PACE (db/moves/copyPace.ts)
   */
  readonly moveCopyPace?: number;
}

export interface ControlPlane {
  readonly app?: FastifyInstance;
  readonly pool: pg.Pool;
  readonly boss: PgBoss;
  readonly service: TenantService;
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const pool = createControlPool({ connectionString: options.controlDatabaseUrl });
  await migrateControlPlane(pool);
  const shared = new pg.Client({ connectionString: options.sharedDatabaseUrl });
  shared.on("error", () => undefined); // a lost connection fails the bootstrap query instead
  await shared.connect();
  try {
    await bootstrapDatabase(shared, {
      ...(options.rolePrefix ? { rolePrefix: options.rolePrefix } : {}),
    });
  } finally {
    await shared.end();
  }
  // The pooled tenants' tables: the tenant migration set on the shared schema, protected.
  const tenantMigrations = await loadMigrationDirectory(DEFAULT_MIGRATIONS_DIR);
  const migrated = await migrateSchemas({
    url: options.sharedDatabaseUrl,
    schemas: ["app"],
    migrations: tenantMigrations,
    ...(options.rolePrefix ? { rolePrefix: options.rolePrefix } : {}),
  });
  if (migrated.failed > 0) throw new Error("migrating the shared tenant schema failed");
  // Routing records stored before the contract, rewritten in its shape (registry facts).
  await upgradeStoredRoutings(pool, options.sharedDatabaseUrl);
  const boss = await startQueue({
    connectionString: options.controlDatabaseUrl,
    ...(options.retryDelaySeconds !== undefined
      ? { retryDelaySeconds: options.retryDelaySeconds }
      : {}),
  });
  await createPurgeQueue(boss);
  const metrics = createMetrics(() => readyJobCount(pool));
  registerUsageMetrics(metrics.registry, pool, options.usageTopN);
  const driver = createTenantDatabaseDriver({
    adminUrl: options.sharedDatabaseUrl,
    ...(options.rolePrefix ? { rolePrefix: options.rolePrefix } : {}),
    ...(options.databasePrefix ? { databasePrefix: options.databasePrefix } : {}),
  });
  const provisioner = createProvisioner({
    driver,
    ...(options.runner ? { runner: options.runner } : {}),
  });
  const database = {
    adminUrl: options.sharedDatabaseUrl,
    migrations: tenantMigrations,
    ...(options.rolePrefix ? { rolePrefix: options.rolePrefix } : {}),
    ...(options.databasePrefix ? { databasePrefix: options.databasePrefix } : {}),
  };
  const mover = createMover({
    database,
    provisioner,
    ...(options.runner ? { runner: options.runner } : {}),
    ...(options.moveBatchSize ? { batchSize: options.moveBatchSize } : {}),
    ...(options.moveCopyPace === undefined ? {} : { copyPace: options.moveCopyPace }),
    schedulePurge: (slug, operationId, at) => schedulePurge(boss, slug, operationId, at),
  });
  const executor = createExecutor({ pool, provisioner, mover, listener: metrics.listener });
  const service = createTenantService({
    pool,
    boss,
    tiers: options.tiers,
    provisioner,
    executor,
    database,
    ...(options.fallbackDelaySeconds !== undefined
      ? { fallbackDelaySeconds: options.fallbackDelaySeconds }
      : {}),
  });
  let worker: Worker | undefined;
  let purgeWorker: string | undefined;
  if ((options.concurrency ?? 4) > 0) {
    purgeWorker = await startPurgeWorker({ boss, pool, database });
    worker = await startWorker({
      boss,
      pool,
      executor,
      concurrency: options.concurrency ?? 4,
      ...(options.sweepSeconds !== undefined ? { sweepSeconds: options.sweepSeconds } : {}),
    });
  }
  let usageJob: UsageJob | undefined;
  if (worker && options.usage !== false) {
    const usage = options.usage ?? {};
    usageJob = await startUsageJob(boss, {
      controlDatabaseUrl: options.controlDatabaseUrl,
      sharedDatabaseUrl: options.sharedDatabaseUrl,
      ...(options.rolePrefix ? { rolePrefix: options.rolePrefix } : {}),
      ...(usage.cron ? { cron: usage.cron } : {}),
      ...(usage.storageEverySeconds !== undefined
        ? { storageEverySeconds: usage.storageEverySeconds }
        : {}),
      ...(usage.kube ? { kubeQuotas: kubeQuotaReader(usage.kube) } : {}),
    });
  }
  let app: FastifyInstance | undefined;
  if (options.http ?? true) {
    app = await buildApp({
      pool,
      service,
      tiers: options.tiers,
      ...(options.pricingFile ? { pricingFile: options.pricingFile } : {}),
      auth: options.auth,
      metrics: metrics.registry,
      logger: options.logger ?? false,
    });
  }
  return {
    ...(app ? { app } : {}),
    pool,
    boss,
    service,
    async stop() {
      await app?.close();
      await usageJob?.stop();
      await worker?.stop();
      if (purgeWorker) await boss.offWork({ id: purgeWorker });
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      await endPoolAndWait(pool);
    },
  };
}
