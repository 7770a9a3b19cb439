/**
 * Loads a catalog directory: `tiers.yaml` and one `<slug>.yaml` per tenant. Every problem in
 * every file is reported in one run, each located at `file:line:col: field.path`.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import type { z } from "zod";
import { compareDiagnostics, type Diagnostic } from "./diagnostics.ts";
import { tenantViolations } from "./rules.ts";
import { tenantFileSchema, tiersFileSchema, type TenantFile, type TiersFile } from "./schema.ts";
import { diagnosticAt, parseYamlSource, type YamlSource } from "./yamlSource.ts";
import { issuesToDiagnostics } from "./zodIssues.ts";

export const TIERS_FILE = "tiers.yaml";

export interface CatalogTenant {
  readonly file: string;
  readonly spec: TenantFile;
}

export interface Catalog {
  readonly tiers: TiersFile;
  /** Sorted by slug. */
  readonly tenants: readonly CatalogTenant[];
}

export type LoadResult =
  | { readonly ok: true; readonly catalog: Catalog; readonly diagnostics: readonly [] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export interface CatalogFile {
  readonly path: string;
  readonly text: string;
}

/** Reads the catalog directory and validates it. Never throws for bad content. */
export async function loadCatalog(dir: string): Promise<LoadResult> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && isYaml(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : String(error);
    return {
      ok: false,
      diagnostics: [
        { file: dir, line: 1, col: 1, path: "", message: `catalog directory ${reason}` },
      ],
    };
  }
  const files = await Promise.all(
    names.map(async (name) => ({
      path: join(dir, name),
      text: await readFile(join(dir, name), "utf8"),
    })),
  );
  if (!names.includes(TIERS_FILE)) {
    return {
      ok: false,
      diagnostics: [
        {
          file: join(dir, TIERS_FILE),
          line: 1,
          col: 1,
          path: "",
          message: "tiers file is missing",
        },
        ...validateCatalogFiles(files).diagnostics,
      ],
    };
  }
  return validateCatalogFiles(files);
}

function isYaml(name: string): boolean {
  return [".yaml", ".yml"].includes(extname(name));
}

/** Validates catalog files given in memory (pure; used by the loader and by tests). */
export function validateCatalogFiles(files: readonly CatalogFile[]): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const tiersEntry = files.find((f) => basename(f.path) === TIERS_FILE);
  const tiers = tiersEntry ? parseFile(tiersEntry, tiersFileSchema, diagnostics) : undefined;

  const tenants: { file: string; source: YamlSource; spec: TenantFile }[] = [];
  const firstFileOfSlug = new Map<string, string>();
  for (const file of files) {
    if (file === tiersEntry) continue;
    const parsed = parseFile(file, tenantFileSchema, diagnostics);
    if (!parsed) continue;
    const { source, value: spec } = parsed;
    const expected = basename(file.path, extname(file.path));
    if (spec.slug !== expected) {
      diagnostics.push(
        diagnosticAt(
          source,
          ["slug"],
          `"${spec.slug}" does not match the file name (expected "${expected}")`,
        ),
      );
    }
    const first = firstFileOfSlug.get(spec.slug);
    if (first) {
      diagnostics.push(
        diagnosticAt(
          source,
          ["slug"],
          `duplicate slug "${spec.slug}", already defined in ${first}`,
        ),
      );
    } else firstFileOfSlug.set(spec.slug, file.path);
    if (tiers) {
      for (const violation of tenantViolations(spec, tiers.value)) {
        diagnostics.push(
          diagnosticAt(source, violation.path, violation.message, { key: violation.key ?? false }),
        );
      }
    }
    tenants.push({ file: file.path, source, spec });
  }
  if (diagnostics.length > 0 || !tiers) {
    return { ok: false, diagnostics: diagnostics.sort(compareDiagnostics) };
  }
  return {
    ok: true,
    diagnostics: [],
    catalog: {
      tiers: tiers.value,
      tenants: tenants
        .map(({ file, spec }) => ({ file, spec }))
        .sort((a, b) => a.spec.slug.localeCompare(b.spec.slug)),
    },
  };
}

function parseFile<S extends z.ZodType>(
  file: CatalogFile,
  schema: S,
  diagnostics: Diagnostic[],
): { source: YamlSource; value: z.output<S> } | undefined {
  const source = parseYamlSource(file.path, file.text);
  if (source.syntaxErrors.length > 0) {
    diagnostics.push(...source.syntaxErrors);
    return undefined;
  }
  if (source.value === undefined || source.value === null) {
    diagnostics.push({ file: file.path, line: 1, col: 1, path: "", message: "file is empty" });
    return undefined;
  }
  if (typeof source.value !== "object" || Array.isArray(source.value)) {
    diagnostics.push(diagnosticAt(source, [], "must be a mapping of fields"));
    return undefined;
  }
  const result = schema.safeParse(source.value);
  if (!result.success) {
    diagnostics.push(...issuesToDiagnostics(source, schema, result.error.issues));
    return undefined;
  }
  return { source, value: result.data };
}
