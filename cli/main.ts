/**
 * The `tenancy` command. Every subcommand returns an exit code; nothing here exits the
 * process, so tests call `main` directly. Errors are one line, never a stack trace.
 * `tenancy <command> --help` prints that command's usage (exit 0); a usage mistake prints the
 * message and the command's usage on stderr (exit 2).
 */
import { COMMANDS, type CommandSpec } from "./commands.ts";
import { processIo, UsageError, type CliIo } from "./io.ts";

export { COMMANDS };

export const USAGE = `usage: tenancy <command> [options]     (tenancy <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([, spec]) => `  ${spec.summary}`)
  .join("\n")}
`;

const HELP = new Set(["--help", "-h"]);

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" || (name !== undefined && HELP.has(name))) {
    const topic = name === "help" ? rest[0] : undefined;
    const spec = topic === undefined ? undefined : COMMANDS[topic];
    if (topic !== undefined && !spec) return usageMistake(io, `unknown command "${topic}"`);
    io.stdout(spec ? spec.usage : USAGE);
    return 0;
  }
  if (name === undefined) return usageMistake(io, "missing command");
  const spec = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!spec) return usageMistake(io, `unknown command "${name}"`);
  // --help anywhere before a `--` (e.g. `tenancy catalog validate --help`).
  const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (options.some((arg) => HELP.has(arg))) {
    io.stdout(spec.usage);
    return 0;
  }
  if (rest.length === 0 && spec.needsArguments) {
    return usageMistake(io, `${name} needs arguments`, spec);
  }
  try {
    return await spec.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      return usageMistake(io, (error as Error).message, spec);
    }
    io.stderr(`tenancy: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** A usage mistake: the message, then the command's usage (or the list), on stderr; exit 2. */
function usageMistake(io: CliIo, message: string, spec?: CommandSpec): number {
  io.stderr(`tenancy: ${message}\n\n${spec ? spec.usage : USAGE}`);
  return 2;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}
