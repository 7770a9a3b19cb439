/**
 * Who owns an embedded PostgreSQL server. The process that starts a server writes its pid
 * (and, on Linux, its start time, so a recycled pid is not mistaken for it) to
 * `<dataDir>.owner`, beside the data directory, and removes the file when it stops the
 * server. A process killed with SIGKILL cannot stop its server: the server keeps running,
 * holding its port and data directory. The next starter for that data directory finds the
 * owner gone and stops the orphan (fast shutdown) before starting its own.
 *
 * A server whose owner file is missing is left alone: it may belong to a process that
 * predates this file, or one between starting the server and writing the file.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { readFile, readlink, realpath, rm, writeFile } from "node:fs/promises";

export interface ServerOwner {
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (Linux); absent elsewhere. */
  readonly startTime?: number;
}

/** What was left by an owner that is gone: its server (stopped here), or only its file. */
export interface StoppedOrphan {
  /** The orphaned server's postmaster pid; undefined when no server was left running. */
  readonly serverPid?: number;
  /** The owner that is gone. */
  readonly ownerPid: number;
}

export function ownerFile(dataDir: string): string {
  return `${dataDir}.owner`;
}

/**
 * Records this process as the owner of the server in `dataDir`. Ownership is given up when
 * the process exits after its server has stopped (also when an exit hook stopped it); a
 * server still running then keeps the file, so the next starter finds it orphaned.
 */
export async function claimServer(dataDir: string): Promise<void> {
  const owner: ServerOwner = { pid: process.pid, ...startTimeField(process.pid) };
  await writeFile(ownerFile(dataDir), JSON.stringify(owner) + "\n", { mode: 0o644 });
  const serverPid = await runningPostmaster(dataDir);
  process.once("exit", () => {
    if (serverPid !== undefined && processExists(serverPid)) return;
    rmSync(ownerFile(dataDir), { force: true });
  });
}

/** Removes the owner file (after a clean stop). */
export async function releaseServer(dataDir: string): Promise<void> {
  await rm(ownerFile(dataDir), { force: true });
}

/**
 * Stops the server of `dataDir` when its owner is gone, and removes the owner's file;
 * undefined when there is nothing to do (no owner file, or the owner is alive). Throws when
 * the orphan does not stop within `timeoutMs`.
 */
export async function stopOrphanedServer(
  dataDir: string,
  timeoutMs = 30_000,
): Promise<StoppedOrphan | undefined> {
  const owner = await readOwner(dataDir);
  if (!owner || isAlive(owner)) return undefined;
  const serverPid = await runningPostmaster(dataDir);
  if (serverPid !== undefined) {
    signal(serverPid, "SIGINT"); // fast shutdown: ends sessions, writes a checkpoint
    const deadline = Date.now() + timeoutMs;
    while (processExists(serverPid)) {
      if (Date.now() > deadline) {
        throw new Error(
          `the orphaned PostgreSQL server ${serverPid} of ${dataDir} (its owner ${owner.pid} is gone) did not stop within ${timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await releaseServer(dataDir);
  return { ownerPid: owner.pid, ...(serverPid === undefined ? {} : { serverPid }) };
}

async function readOwner(dataDir: string): Promise<ServerOwner | undefined> {
  let text: string;
  try {
    text = await readFile(ownerFile(dataDir), "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ServerOwner>;
    if (typeof parsed.pid !== "number" || !Number.isInteger(parsed.pid)) return undefined;
    return {
      pid: parsed.pid,
      ...(typeof parsed.startTime === "number" ? { startTime: parsed.startTime } : {}),
    };
  } catch {
    return undefined; // a torn write: treat as unknown, never as dead
  }
}

function isAlive(owner: ServerOwner): boolean {
  if (!processExists(owner.pid)) return false;
  const now = startTimeField(owner.pid).startTime;
  // Same pid, another process (recycled): the owner is gone.
  return owner.startTime === undefined || now === undefined || now === owner.startTime;
}

/**
 * The postmaster pid from `postmaster.pid`, when that process runs and is the server of this
 * data directory (its working directory, on Linux): a stale file's recycled pid is never
 * signalled.
 */
async function runningPostmaster(dataDir: string): Promise<number | undefined> {
  let first: string | undefined;
  try {
    first = (await readFile(`${dataDir}/postmaster.pid`, "utf8")).split("\n")[0];
  } catch {
    return undefined;
  }
  const pid = Number(first);
  if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) return undefined;
  if (!existsSync("/proc/self")) return pid; // not Linux: trust postmaster.pid
  try {
    const [cwd, dir] = await Promise.all([readlink(`/proc/${pid}/cwd`), realpath(dataDir)]);
    return cwd === dir ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie, killed and not yet reaped, does not). */
function processExists(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    if (existsSync("/proc/self")) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // exited meanwhile
  }
}

/** `{ startTime }` of a process from /proc (field 22 of its stat), or `{}`. */
function startTimeField(pid: number): { startTime?: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const value = Number(fields[19]);
    return Number.isFinite(value) ? { startTime: value } : {};
  } catch {
    return {};
  }
}
