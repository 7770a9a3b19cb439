/**
 * Embedded servers of earlier test runs that were killed (SIGKILL, a crashed runner) keep
 * running in the OS temp dir. Each run's global setup stops those whose owner is gone and
 * removes their data; servers of runs still going (owner alive, or no owner file yet) are
 * left alone.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { stopOrphanedServer } from "../../db/embeddedOwner.ts";

/** Prefix of the temp dirs holding a test run's embedded server (`<dir>/data`). */
export const TEST_SERVER_DIR_PREFIX = "tenancy-test-pg-";

/** Stops and removes orphaned test servers under `root`; returns the directories removed. */
export async function reapOrphanedTestServers(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(root).catch(() => [] as string[])) {
    if (!entry.startsWith(TEST_SERVER_DIR_PREFIX)) continue;
    const dir = join(root, entry);
    try {
      if (!(await stopOrphanedServer(join(dir, "data")))) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch (error) {
      console.warn(`could not stop the orphaned test server in ${dir}: ${String(error)}`);
    }
  }
  return removed;
}
