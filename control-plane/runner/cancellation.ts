/**
 * Cancelling an engine operation: SIGINT, wait, then kill.
 *
 * Aborting the signal given to the Automation API makes it send the CLI SIGINT: the CLI then
 * cancels cleanly (no new steps, in-flight ones finish, the checkpoint is written, the stack
 * lock released). The Automation API never escalates, though, so a CLI waiting on a stuck
 * provider call would hold the stack for ever. Here, a CLI still running `graceMs` after the
 * abort is killed (SIGKILL); its plugins notice that their engine is gone and exit (see
 * scripts/pulumi/langhost and engine-watchdog.cjs). The CLI is found as this process's child
 * running the engine binary in the stack's own workspace directory (Linux /proc; elsewhere
 * the SIGINT is all there is).
 */
import { readdir, readFile, readlink, realpath } from "node:fs/promises";

export interface EngineCli {
  /** The `pulumi` binary the Automation API runs. */
  readonly command: string;
  /** The stack's workspace directory: the CLI's working directory. */
  readonly workDir: string;
}

/** Thrown when the operation was cancelled through its signal. */
export class EngineCancelled extends Error {
  constructor(readonly killed: boolean) {
    super(
      killed
        ? "cancelled: the engine did not stop after SIGINT within the grace period and was killed"
        : "cancelled: the engine stopped after SIGINT",
    );
    this.name = "EngineCancelled";
  }
}

/**
 * Runs `work` (which passes `signal` to the Automation API); if `signal` aborts and the CLI is
 * still running `graceMs` later, kills it. Rejects with EngineCancelled once cancelled.
 */
export async function cancellable<T>(
  signal: AbortSignal | undefined,
  cli: EngineCli,
  graceMs: number,
  work: () => Promise<T>,
): Promise<T> {
  if (!signal) return work();
  if (signal.aborted) throw new EngineCancelled(false);
  let killed = false;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setTimeout(() => {
      void killCli(cli).then((pids) => {
        killed = pids.length > 0;
      });
    }, graceMs);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await work();
  } catch (error) {
    if (signal.aborted) throw new EngineCancelled(killed);
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    clearTimeout(timer);
  }
}

/** SIGKILLs this process's children that run the engine in the workspace; their pids. */
export async function killCli(cli: EngineCli): Promise<number[]> {
  const pids = await cliProcesses(cli);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function cliProcesses(cli: EngineCli): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return []; // no /proc: not Linux
  }
  const binary = await realpath(cli.command).catch(() => cli.command);
  const workDir = await realpath(cli.workDir).catch(() => cli.workDir);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent !== process.pid) continue;
      const [exe, cwd] = await Promise.all([
        readlink(`/proc/${entry}/exe`),
        readlink(`/proc/${entry}/cwd`),
      ]);
      if (exe === binary && cwd === workDir) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}
