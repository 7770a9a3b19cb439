/**
 * The eslint layering rules (eslint.config.js, README "Layout") fail on a wrong-direction
 * import and let the right direction through. Each fixture is linted by the project's own
 * eslint configuration as if it were a file at the given path. Type-aware linting is switched
 * off for these virtual files (typescript-eslint's project service only parses files on
 * disk); the layering rules are plain `no-restricted-imports` and need no types.
 */
import { ESLint } from "eslint";
import path from "node:path";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const LAYERING = "breaks the layering (README, Layout)";

const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: [
    tseslint.configs.disableTypeChecked,
    {
      rules: {
        "pulumi/no-output-in-template-literal": "off",
        "pulumi/no-output-instance-in-template-literal": "off",
      },
    },
  ],
});

async function lint(file: string, from: string) {
  const code = `import * as imported from "${from}";\nexport const used = imported;\n`;
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.map((m) => ({ rule: m.ruleId, line: m.line, message: m.message }));
}

describe("eslint layering rules", () => {
  it.each([
    ["contract/zz.ts", "../catalog/index.ts"],
    ["contract/zz.ts", "../db/registry.ts"],
    ["catalog/zz.ts", "../components/naming.ts"],
    ["catalog/zz.ts", "../db/registry.ts"],
    ["components/compute/zz.ts", "../../db/registry.ts"],
    ["components/compute/zz.ts", "../../control-plane/jobs/provisioner.ts"],
    ["components/compute/zz.ts", "../../stacks/tenant/program.ts"],
    ["db/zz.ts", "../control-plane/store/store.ts"],
    ["db/drivers/zz.ts", "../../components/naming.ts"],
    ["db/drivers/zz.ts", "../../catalog/index.ts"],
  ])("%s importing %s fails with the layering rule", async (file, from) => {
    expect(await lint(file, from)).toEqual([
      {
        rule: "no-restricted-imports",
        line: 1,
        message: `'${from}' import is restricted from being used by a pattern. ${LAYERING}`,
      },
    ]);
  });

  it.each([
    ["catalog/zz.ts", "../contract/index.ts"],
    ["components/compute/zz.ts", "../../contract/index.ts"],
    ["components/compute/zz.ts", "../naming.ts"],
    ["db/drivers/zz.ts", "../../contract/modes.ts"],
    ["stacks/zz.ts", "../db/registry.ts"],
    ["control-plane/zz.ts", "../db/registry.ts"],
  ])("%s importing %s is allowed", async (file, from) => {
    expect(await lint(file, from)).toEqual([]);
  });
});
