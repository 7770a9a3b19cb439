/**
 * The dynamic provider's code for the desired-state hash: the import closure of its two entry
 * modules plus the tenant migrations, not all of db/. On this repository and on a small tree
 * whose files are changed one at a time.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { programCodeHash } from "../../fleet/desiredState.ts";
import { providerCodeFiles } from "../../fleet/providerCode.ts";
import { PROJECT_ROOT } from "./gitRepo.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "tenancy-provider-code-"));
  dirs.push(root);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), text);
  }
  return root;
}

describe("the provider code hashed into the desired state", () => {
  it("is the provider's import closure and the migrations on this repository", async () => {
    const files = await providerCodeFiles(PROJECT_ROOT);
    expect(files).toEqual(
      expect.arrayContaining([
        "db/pulumi/tenantDatabaseObjects.ts",
        "db/pulumi/providerRuntime.ts",
        "db/drivers/schemaDriver.ts",
        "db/drivers/dedicatedDriver.ts",
        "db/purge.ts",
        "db/tenant-migrations/0001_projects.sql",
      ]),
    );
    for (const outside of [
      "db/cli.ts",
      "db/audit.ts",
      "db/embeddedPostgres.ts",
      "db/tenantRouter.ts",
    ]) {
      expect(files).not.toContain(outside);
    }
  });

  it("changes with a file the provider imports or reads, not with another db/ file", async () => {
    const root = await tree({
      "db/pulumi/tenantDatabaseObjects.ts":
        'import type * as R from "./providerRuntime.ts";\nconst load = () => import("./providerRuntime.ts");\n',
      "db/pulumi/providerRuntime.ts": 'export { drive } from "../drivers/index.ts";\n',
      "db/drivers/index.ts":
        'import { quote } from "../identifiers.ts";\nexport const drive = quote;\n',
      "db/identifiers.ts": "export const quote = (s: string) => s;\n",
      "db/cli.ts": 'import { drive } from "./drivers/index.ts";\n',
      "db/tenant-migrations/0001_projects.sql": "CREATE TABLE projects ();\n",
    });
    const hash = async () => programCodeHash(root, await providerCodeFiles(root));
    expect(await providerCodeFiles(root)).toEqual([
      "db/drivers/index.ts",
      "db/identifiers.ts",
      "db/pulumi/providerRuntime.ts",
      "db/pulumi/tenantDatabaseObjects.ts",
      "db/tenant-migrations/0001_projects.sql",
    ]);
    const first = await hash();
    await writeFile(join(root, "db/cli.ts"), "// the CLI changed\n");
    expect(await hash()).toBe(first);
    await writeFile(
      join(root, "db/identifiers.ts"),
      'export const quote = (s: string) => `"${s}"`;\n',
    );
    const second = await hash();
    expect(second).not.toBe(first);
    await writeFile(join(root, "db/tenant-migrations/0002_tasks.sql"), "CREATE TABLE tasks ();\n");
    expect(await hash()).not.toBe(second);
  });
});
