/**
 * Modes the compiler checks: adding a mode to a layer in contract/modes.ts must fail to
 * type-check at every place that has to decide what the mode does (README, "Extending:
 * adding a mode"). The production code is compiled with the TypeScript compiler, the
 * project's own tsconfig, and contract/modes.ts replaced in memory by a copy that adds one
 * mode per layer; every error is then attributed to the layer whose new mode it names.
 */
import path from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { LAYERS, type Layer } from "../../contract/index.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const MODES_FILE = path.join(ROOT, "contract/modes.ts");
const PRODUCTION = [
  "contract",
  "catalog",
  "components",
  "stacks",
  "db",
  "control-plane",
  "cli",
  "fleet",
  "policies",
];

/** The mode each layer gains in the fixture. */
const NEW_MODE: Record<Layer, string> = {
  database: "zz-database",
  storage: "zz-storage",
  compute: "zz-compute",
  identity: "zz-identity",
};

/** Where the compiler must stop a new mode of each layer (the README list, compile part). */
const MUST_FAIL: Record<Layer, string[]> = {
  database: [
    "catalog/rules.ts",
    "components/database/tenantDatabase.ts",
    "contract/modes.ts",
    "db/drivers/driverContext.ts",
    "db/drivers/index.ts",
    "db/moves/movePlacements.ts",
    "stacks/tenant/provisioner.ts",
  ],
  storage: ["catalog/rules.ts", "components/storage/tenantStorage.ts", "contract/modes.ts"],
  compute: [
    "components/compute/localTenantCompute.ts",
    "components/compute/tenantCompute.ts",
    "contract/modes.ts",
  ],
  identity: ["catalog/rules.ts", "components/identity/tenantIdentity.ts", "contract/modes.ts"],
};

/** contract/modes.ts with one more mode in every layer's list. */
function modesWithNewModes(source: string): string {
  let patched = source;
  for (const layer of LAYERS) {
    const before = patched;
    patched = patched.replace(
      new RegExp(`^(  ${layer}: \\[)`, "m"),
      `$1${JSON.stringify(NEW_MODE[layer])}, `,
    );
    if (patched === before) throw new Error(`contract/modes.ts: no MODES.${layer} list found`);
  }
  return patched;
}

interface CompileError {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly message: string;
}

function compileWithNewModes(): CompileError[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error("tsconfig.json could not be read");
  const roots = parsed.fileNames.filter((file) =>
    PRODUCTION.some((dir) => path.relative(ROOT, file).startsWith(`${dir}/`)),
  );
  expect(roots).toContain(path.join(ROOT, "components/tenant/tenant.ts"));
  const patched = modesWithNewModes(ts.sys.readFile(MODES_FILE) ?? "");
  const host = ts.createCompilerHost(parsed.options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (path.resolve(file) === MODES_FILE ? patched : readFile(file));
  host.getSourceFile = (file, language, ...rest) =>
    path.resolve(file) === MODES_FILE
      ? ts.createSourceFile(file, patched, language)
      : getSourceFile(file, language, ...rest);
  const program = ts.createProgram(roots, parsed.options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    if (!d.file || d.start === undefined) {
      throw new Error(
        `unexpected global error: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`,
      );
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return {
      file: path.relative(ROOT, d.file.fileName),
      line: line + 1,
      text: d.file.text.split("\n")[line]?.trim() ?? "",
      message: ts.flattenDiagnosticMessageText(d.messageText, " "),
    };
  });
}

describe("a new mode fails to type-check where it must be handled", () => {
  let errors: CompileError[] = [];
  beforeAll(() => {
    errors = compileWithNewModes();
  }, 240_000);
  const of = (layer: Layer) => errors.filter((e) => e.message.includes(`"${NEW_MODE[layer]}"`));

  it("every error names a new mode (nothing else breaks)", () => {
    const unexplained = errors.filter(
      (e) => !LAYERS.some((layer) => e.message.includes(`"${NEW_MODE[layer]}"`)),
    );
    expect(unexplained).toEqual([]);
  });

  it.each(LAYERS)("a new %s mode fails in exactly the listed files", (layer) => {
    const files = [...new Set(of(layer).map((e) => e.file))].sort();
    expect(files).toEqual(MUST_FAIL[layer]);
  });

  it.each(LAYERS)(
    "in catalog/, components/ and db/, a new %s mode fails at an exhaustive switch's assertNever",
    (layer) => {
      const atSwitches = of(layer).filter((e) =>
        ["catalog/", "components/", "db/"].some((dir) => e.file.startsWith(dir)),
      );
      expect(atSwitches.length).toBeGreaterThan(0);
      for (const error of atSwitches) {
        expect(error.text, `${error.file}:${error.line}`).toMatch(/assertNever\(/);
        expect(error.message).toBe(
          `Argument of type '"${NEW_MODE[layer]}"' is not assignable to parameter of type 'never'.`,
        );
      }
    },
  );

  it("the isolation table must classify the new mode of every layer", () => {
    const table = errors.filter((e) => e.file === "contract/modes.ts");
    expect(table.map((e) => e.text).sort()).toEqual([
      expect.stringMatching(/^compute:/),
      expect.stringMatching(/^database:/),
      expect.stringMatching(/^identity:/),
      expect.stringMatching(/^storage:/),
    ]);
  });
});
