/**
 * Git for fleet commands: resolve refs, list uncommitted changes, and check a commit out into
 * a temporary worktree (catalog and code) that shares the head's installed dependencies.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A problem with the user's git input (unknown ref, not a repository): exit 1 with its message. */
export class GitInputError extends Error {}

export async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run("git", [...args], { cwd, maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

export async function repoRoot(cwd: string): Promise<string> {
  try {
    return (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
  } catch {
    throw new GitInputError(`${cwd} is not inside a git repository`);
  }
}

/** The commit a ref names, or a GitInputError saying it does not exist. */
export async function resolveCommit(root: string, ref: string): Promise<string> {
  try {
    return (await git(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim();
  } catch {
    throw new GitInputError(
      `git ref "${ref}" does not exist in ${root} (fetch it first, e.g. git fetch origin ${ref})`,
    );
  }
}

/** Uncommitted changes (`git status --porcelain` lines), empty when the worktree is clean. */
export async function uncommittedChanges(
  root: string,
  paths: readonly string[] = [],
): Promise<string[]> {
  const out = await git(root, ["status", "--porcelain", "--untracked-files=all", "--", ...paths]);
  return out.split("\n").filter((line) => line.trim());
}

export interface Checkout {
  readonly dir: string;
  readonly commit: string;
  remove(): Promise<void>;
}

/**
 * Checks `commit` out into a new temporary worktree of `root`. Its `node_modules` links to the
 * head's, so the base's code runs with the head's installed dependencies.
 */
export async function checkoutCommit(root: string, commit: string): Promise<Checkout> {
  const parent = await mkdtemp(join(tmpdir(), "tenancy-diff-"));
  const dir = join(parent, "tree");
  await git(root, ["worktree", "add", "--detach", "--quiet", dir, commit]);
  const modules = join(root, "node_modules");
  if (existsSync(modules) && !existsSync(join(dir, "node_modules"))) {
    await symlink(await realpath(modules), join(dir, "node_modules"), "dir");
  }
  return {
    dir,
    commit,
    remove: async () => {
      await git(root, ["worktree", "remove", "--force", dir]).catch(() => undefined);
      await rm(parent, { recursive: true, force: true });
      await git(root, ["worktree", "prune"]).catch(() => undefined);
    },
  };
}
