/**
 * Where the Pulumi engine and its state live. The CLI comes from `TENANCY_PULUMI_ROOT`
 * (a directory with `bin/pulumi`, as built by scripts/pulumi/ensure-pulumi.sh) or from PATH.
 * State goes to `PULUMI_BACKEND_URL`, by default a file backend under the state directory;
 * the secrets passphrase comes from the environment, or — for the local default only — from
 * a random passphrase kept (0600) in the state directory.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { keptSecret } from "../keptSecret.ts";

/** The repository root: the Pulumi project (Pulumi.yaml) the tenant stacks run. */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface EngineSettings {
  readonly command: PulumiCommand;
  /** Environment for every engine invocation (backend, passphrase, no downloads). */
  readonly env: Readonly<Record<string, string>>;
  readonly projectDir: string;
  /** Stack workspaces and the generated passphrase live here. */
  readonly stateDir: string;
  readonly backendUrl: string;
}

export interface EngineOptions {
  /** Directory for the file backend and the generated passphrase. @default `.tenancy/state` */
  readonly stateDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The Pulumi project the tenant stacks run (its `stacks/main.ts`). @default {@link PROJECT_DIR} */
  readonly projectDir?: string;
}

/** Thrown when no Pulumi CLI can be found; tests turn it into a loud skip. */
export class EngineUnavailableError extends Error {}

/** Where scripts/pulumi/ensure-pulumi.sh builds the engine by default. */
export function defaultEngineRoot(env: NodeJS.ProcessEnv = process.env): string {
  const cache =
    env.TENANCY_PULUMI_CACHE ??
    join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tenancy", "pulumi");
  return join(cache, `v${env.PULUMI_ENGINE_VERSION ?? "3.274.1"}`);
}

/**
 * The installation root (a directory with `bin/pulumi`): TENANCY_PULUMI_ROOT, the bin dir
 * exported by scripts/pulumi/env.sh (TENANCY_PULUMI_BIN), `pulumi` on PATH, or the default
 * build location of ensure-pulumi.sh.
 */
export function pulumiRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.TENANCY_PULUMI_ROOT,
    env.TENANCY_PULUMI_BIN ? dirname(env.TENANCY_PULUMI_BIN) : undefined,
    ...(env.PATH ?? "")
      .split(":")
      .filter((dir) => dir && existsSync(join(dir, "pulumi")))
      .map((dir) => dirname(dir)),
    defaultEngineRoot(env),
  ];
  return candidates.find(
    (root) =>
      root !== undefined &&
      existsSync(join(root, "bin", "pulumi")) &&
      existsSync(join(root, "bin", "pulumi-language-nodejs")),
  );
}

/** Whether an engine can run now, is being built, or is missing with no build under way. */
export type EngineAvailability = "ready" | "building" | "missing";

/**
 * True while a build of scripts/pulumi/ensure-pulumi.sh holds its lock (`<root>/.lock`, taken
 * with flock for the whole build), whichever process started it.
 */
export function engineBuildLockHeld(env: NodeJS.ProcessEnv = process.env): boolean {
  const lock = join(defaultEngineRoot(env), ".lock");
  if (!existsSync(lock)) return false;
  const probe = spawnSync("flock", ["--nonblock", "--shared", lock, "true"], { stdio: "ignore" });
  return probe.status === 1;
}

export async function engineSettings(options: EngineOptions = {}): Promise<EngineSettings> {
  const env = options.env ?? process.env;
  const root = pulumiRoot(env);
  if (!root) {
    throw new EngineUnavailableError(
      "no Pulumi engine found: run scripts/pulumi/ensure-pulumi.sh (builds it from its Go modules) or put pulumi on PATH",
    );
  }
  const command = await PulumiCommand.get({ root, skipVersionCheck: true });
  const stateDir = resolve(options.stateDir ?? join(PROJECT_DIR, ".tenancy", "state"));
  const backendUrl = env.PULUMI_BACKEND_URL ?? `file://${join(stateDir, "pulumi")}`;
  if (backendUrl.startsWith("file://"))
    await mkdir(backendUrl.slice("file://".length), { recursive: true });
  const passphrase =
    env.PULUMI_CONFIG_PASSPHRASE ?? (await keptSecret(join(stateDir, "passphrase")));
  const bin = join(root, "bin");
  return {
    command,
    projectDir: options.projectDir ?? PROJECT_DIR,
    stateDir,
    backendUrl,
    env: {
      PULUMI_BACKEND_URL: backendUrl,
      PULUMI_CONFIG_PASSPHRASE: passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      // The language host and the dynamic-provider launcher are found on PATH; the launcher
      // and the dynamic providers resolve @pulumi/pulumi and our modules from NODE_PATH.
      PATH: [bin, env.PATH ?? ""].join(":"),
      NODE_PATH: join(PROJECT_DIR, "node_modules"),
    },
  };
}
