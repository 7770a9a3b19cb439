/**
 * Vitest global setup: one real PostgreSQL server per test run.
 *
 * `DATABASE_URL` (a role allowed to CREATE DATABASE and CREATE ROLE) is used when set;
 * otherwise an embedded server is started in the OS temp dir and removed afterwards.
 * Test files then create their own database on it (see ./postgres.ts).
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../db/embeddedPostgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

let server: EmbeddedServer | undefined;
let dataRoot: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    project.provide("adminDatabaseUrl", fromEnv);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), "tenancy-test-pg-"));
  // mkdtemp makes the directory 0700; as root the server runs as `postgres`, which must reach it.
  await chmod(dataDir, 0o755);
  dataRoot = dataDir;
  server = await startEmbeddedPostgres({ dataDir: join(dataDir, "data"), fast: true });
  project.provide("adminDatabaseUrl", server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop({ removeData: true });
  if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
}
