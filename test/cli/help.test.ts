/**
 * CLI manners, for every command of the table (a command added without its usage fails
 * here): `--help` / `-h` / `help <command>` print that command's usage on stdout (exit 0);
 * an unknown option, or no arguments where some are needed, prints the message and the
 * command's usage on stderr (exit 2) and does nothing else.
 */
import { describe, expect, it } from "vitest";
import { COMMANDS, main, USAGE } from "../../cli/main.ts";

async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

const names = Object.keys(COMMANDS);

describe("tenancy <command> --help and usage mistakes", () => {
  it("lists every command, and says how to get a command's help", async () => {
    const help = await run("--help");
    expect([help.code, help.stderr]).toEqual([0, ""]);
    expect(help.stdout).toBe(USAGE);
    for (const name of names) expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    expect(help.stdout).toContain("tenancy <command> --help");
    const none = await run();
    expect([none.code, none.stdout, none.stderr]).toEqual([
      2,
      "",
      `tenancy: missing command\n\n${USAGE}`,
    ]);
    const unknown = await run("frobnicate", "--help");
    expect([unknown.code, unknown.stdout]).toEqual([2, ""]);
    expect(unknown.stderr).toBe(`tenancy: unknown command "frobnicate"\n\n${USAGE}`);
    expect((await run("help", "frobnicate")).code).toBe(2);
  });

  it.each(names)("%s --help, -h and help %s print its usage and options", async (name) => {
    const usage = COMMANDS[name]!.usage;
    expect(usage).toMatch(new RegExp(`^usage: tenancy ${name}\\b`));
    expect(usage).toMatch(/\n\s*options:\n|\n  --|commands:/);
    for (const argv of [
      [name, "--help"],
      [name, "-h"],
      ["help", name],
    ]) {
      const result = await run(...argv);
      expect(result, argv.join(" ")).toEqual({ code: 0, stdout: usage, stderr: "" });
    }
  });

  it.each(names)("%s with an unknown option exits 2 with its usage on stderr", async (name) => {
    const result = await run(name, "--no-such-option");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const firstLine = COMMANDS[name]!.usage.split("\n")[0]!;
    expect(result.stderr).toContain(firstLine);
    expect(result.stderr).toMatch(/no-such-option|unknown (catalog )?command/);
  });

  it.each(names.filter((name) => COMMANDS[name]!.needsArguments))(
    "%s without its arguments exits 2 with its usage on stderr",
    async (name) => {
      const result = await run(name);
      expect(result).toEqual({
        code: 2,
        stdout: "",
        stderr: `tenancy: ${name} needs arguments\n\n${COMMANDS[name]!.usage}`,
      });
    },
  );

  it.each([
    ["retry", "--url", "http://127.0.0.1:9"],
    ["refresh", "--url", "http://127.0.0.1:9"],
    ["diff", "--json"],
    ["up", "--changed"],
    ["catalog", "validate", "a", "b"],
  ])("%s missing a required argument exits 2 with its usage", async (name, ...rest) => {
    const result = await run(name, ...rest);
    expect([result.code, result.stdout]).toEqual([2, ""]);
    expect(result.stderr).toMatch(/^tenancy: .+\n\n/);
    expect(result.stderr.endsWith(COMMANDS[name]!.usage)).toBe(true);
  });
});
