/**
 * The policy pack the service's (and the CLI's) engine runs go under: the repository's
 * `policies/`, compiled to policies/dist when its sources are newer than what is there
 * (scripts/build-policy-pack.ts; about 5–20 s), once per process.
 */
import { readdir, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { buildPolicyPack, POLICY_PACK_DIR } from "../../scripts/build-policy-pack.ts";

/** Whether every compiled file of the pack is at least as new as its TypeScript source. */
export async function policyPackFresh(packDir: string = POLICY_PACK_DIR): Promise<boolean> {
  const dist = join(packDir, "dist");
  let compiled: string[];
  try {
    compiled = (await readdir(dist, { recursive: true })).filter((f) => f.endsWith(".js"));
  } catch {
    return false; // never built
  }
  if (!compiled.includes(join("policies", "index.js"))) return false;
  // tsconfig.build.json compiles with rootDir "..": dist/<path>.js comes from <root>/<path>.ts.
  const root = resolve(packDir, "..");
  const sources = (await readdir(packDir, { recursive: true }))
    .filter((f) => f.endsWith(".ts") && !f.startsWith("dist"))
    .map((f) => relative(root, join(packDir, f)));
  const compiledFrom = new Set(compiled.map((f) => f.replace(/\.js$/, ".ts")));
  if (sources.some((source) => !compiledFrom.has(source))) return false; // a new rule file
  for (const file of compiled) {
    const [source, output] = await Promise.all([
      stat(join(root, file.replace(/\.js$/, ".ts"))).catch(() => undefined),
      stat(join(dist, file)),
    ]);
    if (!source || source.mtimeMs > output.mtimeMs) return false;
  }
  return true;
}

let built: Promise<string[]> | undefined;

/** The pack directories to run under, compiling the pack first when needed. */
export function repositoryPolicyPacks(): Promise<string[]> {
  built ??= (async () => {
    if (!(await policyPackFresh())) await buildPolicyPack();
    return [POLICY_PACK_DIR];
  })().catch((error: unknown) => {
    built = undefined; // try again on the next operation
    throw error;
  });
  return built;
}
