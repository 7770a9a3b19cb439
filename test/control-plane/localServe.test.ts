/**
 * `tenancy serve` on the embedded default, run as a user runs it (a real process in a fresh
 * state dir, its own embedded PostgreSQL): its output never holds the operator token, and the
 * embedded server a `kill -9`ed serve left running is stopped by the next start.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.ts";
import { postmasterPid, processRunning } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

interface Serve {
  readonly child: ChildProcess;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  /** The API's URL, once it listens. */
  url(): string | undefined;
}

let stateDir: string;
let catalogDir: string;
let pgPort: number;
const started: ChildProcess[] = [];

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), "tenancy-serve-"));
  // As root the embedded server runs as `postgres`, which must reach its data dir.
  await chmod(root, 0o755);
  stateDir = join(root, "state");
  catalogDir = join(root, "catalog");
  await mkdir(catalogDir);
  // Tiers only: no catalog tenant, so no deployment is started.
  await copyFile(resolve("tenants", "tiers.yaml"), join(catalogDir, "tiers.yaml"));
  pgPort = await freePort();
});

afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill("SIGTERM");
  await waitFor(() => started.every((c) => c.exitCode !== null || c.signalCode !== null), 30_000);
  await rm(join(stateDir, ".."), { recursive: true, force: true });
}, 60_000);

function serve(): Serve {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TENANCY_STATE_DIR: stateDir,
    TENANCY_PG_PORT: String(pgPort),
    TENANCY_SKIP_KUBE: "1",
  };
  delete env.DATABASE_URL;
  delete env.TENANCY_API_TOKEN;
  const child = spawn(
    process.execPath,
    [resolve("bin", "tenancy.js"), "serve", "--port", "0", "--catalog", catalogDir],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  started.push(child);
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return {
    child,
    output: () => text,
    url: () => /listening on (http:\/\/\S+)/.exec(text)?.[1],
  };
}

/** Waits until the service has started (its catalog line), failing with its output. */
async function ready(server: Serve): Promise<void> {
  await waitFor(() => {
    if (server.child.exitCode !== null) {
      throw new Error(`tenancy serve exited ${server.child.exitCode}:\n${server.output()}`);
    }
    return /catalog .*: 0 tenants/.test(server.output());
  }, 120_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\noutput:\n${server.output()}`);
  });
}

async function stopped(server: Serve, signal: NodeJS.Signals): Promise<void> {
  server.child.kill(signal);
  await waitFor(() => server.child.exitCode !== null || server.child.signalCode !== null, 60_000);
}

describe("tenancy serve on the embedded default", () => {
  it("creates the operator token without printing it: the log names the file and its mode", async () => {
    const first = serve();
    await ready(first);
    const file = join(stateDir, "state", "api-token");
    const token = (await readFile(file, "utf8")).trim();
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(
      `operator token: created in ${file} (mode 0600; read it from there, it is not printed)`,
    );
    expect(first.output()).not.toContain(token);
    // The file holds the token the API accepts.
    const listed = await fetch(`${first.url()}/v1/tenants`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.status).toBe(200);
    await stopped(first, "SIGTERM");
    // Stopped in order, the embedded PostgreSQL last: no connection was cut under the service.
    expect(first.output()).toContain("stopping...");
    expect(first.output()).not.toMatch(/terminating connection|connection lost|job queue error/);
    expect(first.child.exitCode).toBe(0);
    expect(existsSync(join(stateDir, "postgres", "data", "postmaster.pid"))).toBe(false);

    const second = serve();
    await ready(second);
    expect(second.output()).toContain(`operator token: kept in ${file}`);
    expect(second.output()).not.toContain(token);
    await stopped(second, "SIGTERM");
  }, 300_000);

  it("stops the embedded PostgreSQL a killed serve left running, and starts its own", async () => {
    const dataDir = join(stateDir, "postgres", "data");
    const killed = serve();
    await ready(killed);
    const orphanPid = await postmasterPid(dataDir);
    expect(processRunning(orphanPid)).toBe(true);

    await stopped(killed, "SIGKILL");
    // The server outlives its owner: that is the orphan.
    await new Promise((r) => setTimeout(r, 500));
    expect(processRunning(orphanPid)).toBe(true);

    const next = serve();
    await ready(next);
    expect(next.output()).toContain(
      `note: stopped the embedded PostgreSQL left running by process ${killed.child.pid}, which is gone (server pid ${orphanPid})`,
    );
    expect(processRunning(orphanPid)).toBe(false);
    const ownPid = await postmasterPid(dataDir);
    expect(ownPid).not.toBe(orphanPid);
    expect(processRunning(ownPid)).toBe(true);
    expect((JSON.parse(await readFile(`${dataDir}.owner`, "utf8")) as { pid: number }).pid).toBe(
      next.child.pid,
    );
    const token = (await readFile(join(stateDir, "state", "api-token"), "utf8")).trim();
    const listed = await fetch(`${next.url()}/v1/tenants`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.status).toBe(200);

    // A clean stop stops the server and gives up ownership.
    await stopped(next, "SIGTERM");
    await waitFor(() => !processRunning(ownPid), 30_000);
    await expect(stat(`${dataDir}.owner`)).rejects.toThrow(/ENOENT/);
  }, 300_000);
});
