/** Usage budgets in tiers.yaml: parsed with units, and every mistake located at file:line. */
import { describe, expect, it } from "vitest";
import { formatDiagnostic, validateCatalogFiles } from "../../catalog/index.ts";

const tiers = (budgets: string) => `tiers:
  free:
    layers: { database: pool, storage: prefix, compute: pool, identity: shared }
    budgets:
${budgets}`;

function load(budgets: string) {
  return validateCatalogFiles([{ path: "tenants/tiers.yaml", text: tiers(budgets) }]);
}

describe("tier budgets", () => {
  it("parses rates, connections and sizes with units", () => {
    const result = load(
      "      statementsPerMinute: 600\n      peakConnections: 3\n      storageBytes: 1.5Gi\n",
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.catalog.tiers.tiers.free!.budgets).toEqual({
      statementsPerMinute: 600,
      peakConnections: 3,
      storageBytes: 1.5 * 1024 ** 3,
    });
  });

  it.each([
    [
      "      statementsPerMinut: 600\n",
      /^tenants\/tiers\.yaml:5:7: tiers\.free\.budgets\.statementsPerMinut: unknown field "statementsPerMinut" \(did you mean "statementsPerMinute"\?\)/,
    ],
    [
      "      cpuSeconds: 5\n",
      /^tenants\/tiers\.yaml:5:7: tiers\.free\.budgets\.cpuSeconds: unknown field/,
    ],
    [
      "      storageBytes: lots\n",
      /^tenants\/tiers\.yaml:5:21: tiers\.free\.budgets\.storageBytes: /,
    ],
    [
      "      peakConnections: 2.5\n",
      /^tenants\/tiers\.yaml:5:24: tiers\.free\.budgets\.peakConnections: /,
    ],
    [
      "      statementsPerMinute: -1\n",
      /^tenants\/tiers\.yaml:5:28: tiers\.free\.budgets\.statementsPerMinute: /,
    ],
  ])("%j is refused at file:line:col", (budgets, expected) => {
    const result = load(budgets);
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([expect.stringMatching(expected)]);
  });
});
