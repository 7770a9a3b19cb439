/**
 * Test servers of killed runs are found and stopped: the global setup reaps every
 * `tenancy-test-pg-*` directory whose owner process is gone (server stopped, directory
 * removed) and leaves alone those whose owner still runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, it } from "vitest";
import { reapOrphanedTestServers, TEST_SERVER_DIR_PREFIX } from "../support/orphanedServers.ts";
import { postmasterPid, processRunning } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const children: ChildProcess[] = [];
let root: string | undefined;

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  await waitFor(() => children.every((c) => c.exitCode !== null || c.signalCode !== null), 30_000);
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

/** Starts a process owning a server in `<root>/<name>/data`; resolves once it is ready. */
async function owner(name: string): Promise<{ child: ChildProcess; dataDir: string }> {
  const dir = join(root!, name);
  await mkdir(dir);
  await chmod(dir, 0o755); // as root the server runs as `postgres`
  const dataDir = join(dir, "data");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", resolve("test", "harness", "fixtures", "serverOwner.ts"), dataDir],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  await waitFor(() => out.includes("ready"), 120_000);
  return { child, dataDir };
}

it("stops and removes the server of a kill -9ed owner, and leaves a live owner's alone", async () => {
  root = await mkdtemp(join(tmpdir(), "tenancy-reap-"));
  await chmod(root, 0o755);
  const [killed, alive] = await Promise.all([
    owner(`${TEST_SERVER_DIR_PREFIX}killed`),
    owner(`${TEST_SERVER_DIR_PREFIX}alive`),
  ]);
  const orphanPid = await postmasterPid(killed.dataDir);
  const livePid = await postmasterPid(alive.dataDir);
  killed.child.kill("SIGKILL");
  await waitFor(() => killed.child.signalCode !== null);
  expect(processRunning(orphanPid)).toBe(true); // the orphan

  expect(await reapOrphanedTestServers(root)).toEqual([
    join(root, `${TEST_SERVER_DIR_PREFIX}killed`),
  ]);
  expect(processRunning(orphanPid)).toBe(false);
  await expect(stat(join(root, `${TEST_SERVER_DIR_PREFIX}killed`))).rejects.toThrow(/ENOENT/);
  expect(processRunning(livePid)).toBe(true);
  expect((await stat(alive.dataDir)).isDirectory()).toBe(true);
  // Reaping again finds nothing.
  expect(await reapOrphanedTestServers(root)).toEqual([]);
  expect(processRunning(livePid)).toBe(true);
}, 300_000);
