/**
 * Real temporary git repositories for fleet tests: a copy of this project's code and example
 * catalog (plus generated tenants), committed, with node_modules linked to ours.
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const COPIED = [
  "contract",
  "catalog",
  "components",
  "stacks",
  "policies",
  "db",
  "fleet",
  "tenants",
  "package.json",
  "tsconfig.json",
  "Pulumi.yaml",
];

export interface TestRepo {
  readonly dir: string;
  git(...args: string[]): string;
  write(path: string, text: string): void;
  read(path: string): string;
  commit(message: string): string;
  remove(): void;
}

/** A committed repository with the example catalog and `generated` extra tenants. */
export function createTestRepo(generated = 0): TestRepo {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "tenancy-fleet-repo-")));
  for (const entry of COPIED)
    cpSync(join(PROJECT_ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(realpathSync(join(PROJECT_ROOT, "node_modules")), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, ".gitignore"), "node_modules\n.tenancy\n");
  for (let i = 1; i <= generated; i++) {
    const slug = generatedSlug(i);
    writeFileSync(join(dir, "tenants", `${slug}.yaml`), generatedTenant(i));
  }
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t.invalid",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t.invalid",
      },
    });
  git("init", "--quiet", "--initial-branch=main");
  const repo: TestRepo = {
    dir,
    git,
    write: (path, text) => writeFileSync(join(dir, path), text),
    read: (path) => readFileSync(join(dir, path), "utf8"),
    commit: (message) => {
      git("add", "-A");
      git("commit", "--quiet", "-m", message);
      return git("rev-parse", "HEAD").trim();
    },
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  repo.commit("initial catalog");
  return repo;
}

export function generatedSlug(i: number): string {
  return `gen-${String(i).padStart(5, "0")}`;
}

/** Tiers by turn: free, pro, enterprise-like pro with a schema database. */
export function generatedTier(i: number): "free" | "pro" {
  return i % 2 === 0 ? "pro" : "free";
}

export function generatedTenant(i: number): string {
  return [
    `slug: ${generatedSlug(i)}`,
    `name: Generated ${String(i).padStart(5, "0")}`,
    `tier: ${generatedTier(i)}`,
    "",
  ].join("\n");
}
