/**
 * The code of the in-database dynamic provider, as the files it consists of: the module whose
 * functions the engine serializes into each tenant's `tenancy:TenantDatabase` resource, the
 * runtime module those functions import at run time, everything those two import (relative
 * imports, followed recursively), and the tenant migrations the runtime reads from disk.
 *
 * Hashing these instead of all of `db/` keeps a change to code no provider runs (the CLI, the
 * audit, the usage sampler, the embedded test server) from marking every stack's desired state
 * as changed, which would send the whole fleet through the engine for nothing.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, normalize, relative } from "node:path";

/** Where the provider starts: its serialized functions and the runtime they load. */
export const PROVIDER_ENTRY_FILES = [
  "db/pulumi/tenantDatabaseObjects.ts",
  "db/pulumi/providerRuntime.ts",
];
/** Files the runtime reads at run time rather than imports. */
export const PROVIDER_DATA_DIRS = ["db/tenant-migrations"];

/** `from "./x.ts"`, `import "./x.ts"`, `import("./x.ts")`: the relative specifiers of a module. */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.\.?\/[^"']+)["']/g;

/** The provider's files, relative to `root`, sorted. */
export async function providerCodeFiles(root: string): Promise<string[]> {
  const seen = new Set<string>();
  const pending = [...PROVIDER_ENTRY_FILES];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    const text = await readFile(join(root, file), "utf8").catch(() => undefined);
    if (text === undefined) continue; // a missing module fails the program, not the hash
    seen.add(file);
    for (const match of text.matchAll(RELATIVE_IMPORT)) {
      const target = normalize(join(dirname(file), match[1]!));
      if (target.endsWith(".ts") && !seen.has(target)) pending.push(target);
    }
  }
  for (const dir of PROVIDER_DATA_DIRS) {
    const names = await readdir(join(root, dir)).catch(() => [] as string[]);
    for (const name of names) seen.add(relative(root, join(root, dir, name)));
  }
  return [...seen].sort();
}
