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
import { rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

/** The policy pack directory: what `--policy-pack` (or Automation API `policyPacks`) takes. */
export const POLICY_PACK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "policies");

/** Compiles the pack into policies/dist (replacing what was there); returns the pack dir. */
export async function buildPolicyPack(): Promise<string> {
  const dist = join(POLICY_PACK_DIR, "dist");
  await rm(dist, { recursive: true, force: true });
  const tsc = createRequire(join(POLICY_PACK_DIR, "package.json")).resolve("typescript/bin/tsc");
  try {
    await promisify(execFile)(
      process.execPath,
      [tsc, "-p", join(POLICY_PACK_DIR, "tsconfig.build.json")],
      { cwd: POLICY_PACK_DIR },
    );
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`compiling the policy pack failed:\n${stdout}${stderr}`.trimEnd());
  }
  // The sources are ES modules (../package.json); the compiled pack is CommonJS.
  await writeFile(join(dist, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
  return POLICY_PACK_DIR;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = await buildPolicyPack();
  process.stdout.write(`policy pack built: ${join(dir, "dist")}\n`);
}
