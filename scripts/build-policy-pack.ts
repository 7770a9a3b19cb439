/**
 * Compiles the policy pack (policies/, TypeScript) to CommonJS JavaScript in policies/dist,
 * the `main` of policies/package.json, so that `pulumi preview --policy-pack policies` loads
 * it with plain Node. The SDK's policy-pack runner (@pulumi/pulumi/cmd/run-policy-pack)
 * registers its bundled ts-node for `.ts` files whatever PulumiPolicy.yaml says, and that
 * ts-node neither resolves our `.ts` import specifiers nor starts fast.
 *
 * Usage: npm run build:policies   (or `npm run build` in policies/)
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

/** The policy pack directory: what `--policy-pack` (or Automation API `policyPacks`) takes. */
export const POLICY_PACK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "policies");

/**
 * Compiles the pack into policies/dist (replacing what was there); returns the pack dir.
 *
 * Engine runs of other processes (a worker, another test file) may be reading dist while this
 * runs, and two processes may build at once: each compiles into a directory of its own and
 * swaps it in with two renames, so dist is only ever a complete build (missing for the instant
 * between the renames, never half-written or emptied under a running engine).
 */
export async function buildPolicyPack(): Promise<string> {
  const dist = join(POLICY_PACK_DIR, "dist");
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const fresh = join(POLICY_PACK_DIR, `dist.build-${suffix}`);
  const stale = join(POLICY_PACK_DIR, `dist.old-${suffix}`);
  const tsc = createRequire(join(POLICY_PACK_DIR, "package.json")).resolve("typescript/bin/tsc");
  try {
    await promisify(execFile)(
      process.execPath,
      [tsc, "-p", join(POLICY_PACK_DIR, "tsconfig.build.json"), "--outDir", fresh],
      { cwd: POLICY_PACK_DIR },
    );
    // The sources are ES modules (../package.json); the compiled pack is CommonJS.
    await writeFile(join(fresh, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
  } catch (error) {
    await rm(fresh, { recursive: true, force: true });
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`compiling the policy pack failed:\n${stdout}${stderr}`.trimEnd());
  }
  await rename(dist, stale).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  await rename(fresh, dist).catch(async (error: NodeJS.ErrnoException) => {
    // Another process swapped its build in between our renames: it is as new as ours.
    if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    await rm(fresh, { recursive: true, force: true });
  });
  await rm(stale, { recursive: true, force: true });
  return POLICY_PACK_DIR;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = await buildPolicyPack();
  process.stdout.write(`policy pack built: ${join(dir, "dist")}\n`);
}
