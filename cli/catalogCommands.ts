/** `tenancy catalog validate|schema`. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { catalogJsonSchemas, formatDiagnostic, loadCatalog } from "../catalog/index.ts";
import { UsageError, type CliIo } from "./io.ts";

export const DEFAULT_CATALOG_DIR = process.env.TENANCY_CATALOG ?? "tenants";

export async function catalogCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "validate":
      return validate(rest, io);
    case "schema":
      return schema(rest, io);
    default:
      throw new UsageError(sub ? `unknown catalog command "${sub}"` : "missing catalog command");
  }
}

async function validate(argv: readonly string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { json: { type: "boolean", default: false } },
  });
  if (positionals.length > 1) throw new UsageError("validate takes at most one directory");
  const dir = positionals[0] ?? DEFAULT_CATALOG_DIR;
  const result = await loadCatalog(dir);
  if (values.json) {
    io.stdout(
      JSON.stringify(
        result.ok
          ? { ok: true, tenants: result.catalog.tenants.length, diagnostics: [] }
          : { ok: false, diagnostics: result.diagnostics },
        null,
        2,
      ) + "\n",
    );
    return result.ok ? 0 : 1;
  }
  if (!result.ok) {
    for (const diagnostic of result.diagnostics) io.stderr(formatDiagnostic(diagnostic) + "\n");
    const count = result.diagnostics.length;
    io.stderr(`${count} error${count === 1 ? "" : "s"} in catalog ${dir}\n`);
    return 1;
  }
  const { tenants, tiers } = result.catalog;
  io.stdout(
    `catalog ${dir} is valid: ${tenants.length} tenants, ${Object.keys(tiers.tiers).length} tiers\n`,
  );
  return 0;
}

async function schema(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { write: { type: "string" } } });
  const schemas = catalogJsonSchemas();
  if (values.write) {
    await mkdir(values.write, { recursive: true });
    for (const [file, content] of Object.entries(schemas)) {
      await writeFile(join(values.write, file), JSON.stringify(content, null, 2) + "\n");
      io.stdout(`wrote ${join(values.write, file)}\n`);
    }
    return 0;
  }
  io.stdout(JSON.stringify(schemas, null, 2) + "\n");
  return 0;
}
