/**
 * Loads the operator's price table (`pricing.yaml`, see pricing.example.yaml). Every problem
 * is a diagnostic located at `file:line:col: field.path`, as for the catalog.
 */
import { readFile } from "node:fs/promises";
import { pricingFileSchema, type PricingFile } from "../contract/pricing.ts";
import { compareDiagnostics, type Diagnostic } from "./diagnostics.ts";
import { diagnosticAt, parseYamlSource } from "./yamlSource.ts";
import { issuesToDiagnostics } from "./zodIssues.ts";

export type PricingLoad =
  | { readonly kind: "ok"; readonly file: string; readonly pricing: PricingFile }
  | { readonly kind: "missing"; readonly file: string }
  | { readonly kind: "invalid"; readonly file: string; readonly diagnostics: Diagnostic[] };

/** Reads and validates the price table at `file`; never throws for a missing or bad file. */
export async function loadPricingFile(file: string): Promise<PricingLoad> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing", file };
    const message = `cannot be read: ${(error as Error).message}`;
    return { kind: "invalid", file, diagnostics: [{ file, line: 1, col: 1, path: "", message }] };
  }
  return validatePricingText(file, text);
}

/** Validates a price table given in memory (pure). */
export function validatePricingText(file: string, text: string): PricingLoad {
  const source = parseYamlSource(file, text);
  if (source.syntaxErrors.length > 0) {
    return { kind: "invalid", file, diagnostics: [...source.syntaxErrors] };
  }
  if (source.value === undefined || source.value === null) {
    return {
      kind: "invalid",
      file,
      diagnostics: [{ file, line: 1, col: 1, path: "", message: "file is empty" }],
    };
  }
  if (typeof source.value !== "object" || Array.isArray(source.value)) {
    return {
      kind: "invalid",
      file,
      diagnostics: [diagnosticAt(source, [], "must be a mapping of fields")],
    };
  }
  const result = pricingFileSchema.safeParse(source.value);
  if (!result.success) {
    const diagnostics = issuesToDiagnostics(source, pricingFileSchema, result.error.issues);
    return { kind: "invalid", file, diagnostics: diagnostics.sort(compareDiagnostics) };
  }
  return { kind: "ok", file, pricing: result.data };
}
