/**
 * The operator's price table: the placeholder example loads; every mistake is reported at
 * its file, line, column and field, as for the catalog.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  formatDiagnostic,
  loadPricingFile,
  validatePricingText,
  type PricingLoad,
} from "../../catalog/index.ts";

function problems(load: PricingLoad): string[] {
  expect(load.kind).toBe("invalid");
  return load.kind === "invalid" ? load.diagnostics.map(formatDiagnostic) : [];
}

const valid = `currency: EUR
prices:
  statements: { price: 2, per: 10 }
shared:
  db-server:
    monthly: 2592
    layer: database
    modes: [pool, schema]
    apportionBy: statements
`;

describe("pricing.yaml", () => {
  it("loads the shipped example, which is labelled as placeholders", async () => {
    const load = await loadPricingFile("pricing.example.yaml");
    expect(load.kind).toBe("ok");
    const { readFile } = await import("node:fs/promises");
    expect(await readFile("pricing.example.yaml", "utf8")).toMatch(/PLACEHOLDER/);
  });

  it("reads prices with their defaults", () => {
    const load = validatePricingText(
      "p.yaml",
      valid.replace("per: 10", "per: 10 }\n  apiCalls: { price: 3"),
    );
    expect(load).toMatchObject({
      kind: "ok",
      pricing: {
        currency: "EUR",
        prices: { statements: { price: 2, per: 10 }, apiCalls: { price: 3, per: 1 } },
        shared: { "db-server": { monthly: 2592, apportionBy: "statements" } },
      },
    });
  });

  it("names file, line, column and field of each mistake", () => {
    expect(
      problems(
        validatePricingText(
          "pricing.yaml",
          `currency: euro
prices:
  statments: { price: 1 }
  rowsRead: { price: -1, per: 1000 }
shared:
  db-server:
    monthly: 10
    layer: database
    modes: [pool]
    apportionBy: cpu
`,
        ),
      ),
    ).toEqual([
      'pricing.yaml:1:11: currency: must be a three-letter currency code, e.g. "EUR" ("XXX": none)',
      'pricing.yaml:3:3: prices.statments: unknown field "statments" (did you mean "statements"?)',
      "pricing.yaml:4:22: prices.rowsRead.price: Too small: expected number to be >=0",
      'pricing.yaml:10:18: shared.db-server.apportionBy: "cpu" is not one of "statements", "statementSeconds", "rowsRead", "rowsWritten", "transactions", "apiCalls", "operations", "storageGibMonths"',
    ]);
    expect(
      problems(
        validatePricingText("pricing.yaml", valid.replace("[pool, schema]", "[pool, shcema]")),
      ),
    ).toEqual([
      'pricing.yaml:8:19: shared.db-server.modes[1]: "shcema" is not a database mode (pool, schema, dedicated)',
    ]);
    expect(
      problems(validatePricingText("pricing.yaml", valid.replace("    monthly: 2592\n", ""))),
    ).toEqual(["pricing.yaml:6:5: shared.db-server.monthly: is required"]);
  });

  it("reports an empty file, a syntax error and a file that is not a mapping", () => {
    expect(problems(validatePricingText("p.yaml", ""))).toEqual([
      "p.yaml:1:1: (file): file is empty",
    ]);
    expect(problems(validatePricingText("p.yaml", "currency: [EUR\n"))[0]).toMatch(
      /^p\.yaml:\d+:\d+: \(file\): YAML syntax error/,
    );
    expect(problems(validatePricingText("p.yaml", "- EUR\n"))).toEqual([
      "p.yaml:1:1: (file): must be a mapping of fields",
    ]);
  });

  it("tells a missing file from a bad one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pricing-"));
    try {
      expect(await loadPricingFile(join(dir, "pricing.yaml"))).toEqual({
        kind: "missing",
        file: join(dir, "pricing.yaml"),
      });
      expect((await loadPricingFile(dir)).kind).toBe("invalid"); // a directory
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
