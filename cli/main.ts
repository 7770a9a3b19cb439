/**
 * The `tenancy` command. Every subcommand returns an exit code; nothing here exits the
 * process, so tests call `main` directly. Errors are one line, never a stack trace.
 */
import { catalogCommand } from "./catalogCommands.ts";
import { processIo, UsageError, type CliIo } from "./io.ts";
import { planCommand } from "./planCommand.ts";

export const USAGE = `usage: tenancy <command> [options]

commands:
  catalog validate [dir] [--json]     validate the tenant catalog (default: tenants/)
  catalog schema [--write dir]        JSON Schemas of tenant and tiers files
  plan [--tenant slug]... [--target aws|local] [--catalog dir] [--json] [--exact]
                                      resolved isolation of every tenant
  db bootstrap|protect|audit|migrate|purge --database-url URL [--json]
                                      PostgreSQL isolation: roles, RLS, audit, migrations
  diff --base <ref> [--head <ref>] [--markdown|--json] [--target aws|local]
                                      what a change does to every tenant (offline, grouped)
  up --all | --changed --base <ref> [--waves 1,10,100] [--parallel 4] [--on-busy wait|skip]
                                      roll the catalog out; unchanged stacks are skipped
  preview [--tenant slug]... [--markdown] [--parallel 4]
                                      per-tenant preview of the tenant stacks (real engine, local target)
  serve [--port 8080] [--concurrency 4] [--no-worker] [--insecure-dev-open]
                                      the control-plane API and workers (embedded default)
  worker [--concurrency 4]            job workers only (scale out against the same database)
  reconcile [--catalog dir] [--json]  bring every catalog tenant to its declared state
  export [--out dir]                  write API-created tenants as catalog files
  retry <slug|operation-id> [--url URL]
                                      run a failed operation again (running control plane)
  usage [--tenant slug [--step 5m|1h|1d]] [--top 20] [--metric m] [--fit [--sustained 15m]]
        [--from ISO] [--to ISO] [--json] [--url URL]
                                      per-tenant usage: the noisiest tenants, one tenant's
                                      series, tenants above their tier's budget
  refresh <slug> [--url URL] [--no-wait] [--json]
                                      refresh a tenant's stack and print its drift report
`;

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  catalog: catalogCommand,
  plan: planCommand,
  // Loaded on use: the service pulls in Fastify, pg-boss and the Automation API.
  db: async (argv, io) => (await import("../db/cli.ts")).runDbCommand([...argv], io),
  diff: async (argv, io) => (await import("./diffCommand.ts")).diffCommand(argv, io),
  up: async (argv, io) => (await import("./upCommand.ts")).upCommand(argv, io),
  preview: async (argv, io) => (await import("./previewCommand.ts")).previewCommand(argv, io),
  serve: async (argv, io) => (await import("./serveCommand.ts")).serveCommand(argv, io),
  worker: async (argv, io) => (await import("./serveCommand.ts")).workerCommand(argv, io),
  reconcile: async (argv, io) => (await import("./reconcileCommand.ts")).reconcileCommand(argv, io),
  export: async (argv, io) => (await import("./reconcileCommand.ts")).exportCommand(argv, io),
  retry: async (argv, io) => (await import("./retryCommand.ts")).retryCommand(argv, io),
  usage: async (argv, io) => (await import("./usageCommand.ts")).usageCommand(argv, io),
  refresh: async (argv, io) => (await import("./refreshCommand.ts")).refreshCommand(argv, io),
};

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    io.stdout(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr(`tenancy: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr(`tenancy: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}
