/**
 * Per-stack workspace directories under the state dir. The Automation API writes stack
 * settings (`Pulumi.<stack>.yaml`) into its work dir; pointing it at the repository would
 * write runtime files next to the committed examples. Each tenant stack therefore gets a
 * directory of its own with a generated Pulumi.yaml whose `main` is the repository's program.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { stringify } from "yaml";

/** Writes (idempotently) the project file of a stack's workspace; returns the directory. */
export async function stackWorkspace(
  stateDir: string,
  projectDir: string,
  stackName: string,
): Promise<string> {
  const dir = join(stateDir, "workspaces", stackName);
  await mkdir(dir, { recursive: true });
  // `--import tsx/esm` would resolve from the workspace dir; give node the loader's absolute path.
  // ESM hooks only: the program is ESM, and the SDKs' CommonJS `require`s skip tsx's CJS hook.
  const tsxLoader = createRequire(join(projectDir, "package.json")).resolve("tsx/esm");
  const project = {
    name: "tenancy",
    runtime: { name: "nodejs", options: { typescript: false, nodeargs: `--import ${tsxLoader}` } },
    main: join(projectDir, "stacks", "main.ts"),
  };
  await writeFile(join(dir, "Pulumi.yaml"), stringify(project));
  return dir;
}
