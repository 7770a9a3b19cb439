/**
 * The `tenancy` commands: each with its usage (printed by `tenancy <command> --help`, and on
 * stderr with exit 2 after a usage mistake) and its implementation, loaded on use (the
 * service pulls in Fastify, pg-boss and the Automation API). A command cannot be added
 * without its usage: the table's type asks for it, and test/cli/help.test.ts checks each.
 */
import { DB_USAGE } from "../db/cliUsage.ts";
import { DEFAULT_COPY_PACE } from "../db/moves/copyPace.ts";
import type { CliIo } from "./io.ts";

export interface CommandSpec {
  /** One line (or two) for the list of commands. */
  readonly summary: string;
  /** The whole usage: `usage: tenancy <name> ...`, then what it does and its options. */
  readonly usage: string;
  /** True when running it without arguments is a usage mistake (exit 2). */
  readonly needsArguments: boolean;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  catalog: {
    summary: "catalog validate [dir] | schema   validate the catalog; its JSON Schemas",
    needsArguments: true,
    usage: `usage: tenancy catalog validate [dir] [--json]
       tenancy catalog schema [--write dir]

  validate   check every tenant and tiers file (default dir: tenants/); each error is
             file:line:col: field.path: message; exit 1 on any error
  schema     print the JSON Schemas of tenant and tiers files, or write them to a directory

options:
  --json         validate: machine-readable result
  --write dir    schema: write the files into dir
`,
    run: async (argv, io) => (await import("./catalogCommands.ts")).catalogCommand(argv, io),
  },
  plan: {
    summary: "plan [--tenant slug]...              resolved isolation and resources per tenant",
    needsArguments: false,
    usage: `usage: tenancy plan [--tenant slug]... [--target aws|local] [--catalog dir] [--json] [--exact]

Resolved isolation of every tenant (or the ones named) and the resources its stack declares,
computed offline under Pulumi's mock runtime.

options:
  --tenant slug    only this tenant (repeatable)
  --target T       aws (default) or local
  --catalog dir    the catalog (default: tenants/)
  --json           machine-readable output
  --exact          run the program once per tenant (no shape sharing)
`,
    run: async (argv, io) => (await import("./planCommand.ts")).planCommand(argv, io),
  },
  db: {
    summary: "db bootstrap|protect|audit|migrate|purge|move --database-url URL",
    needsArguments: true,
    usage: DB_USAGE,
    run: async (argv, io) => (await import("../db/cli.ts")).runDbCommand([...argv], io),
  },
  diff: {
    summary: "diff --base <ref> [--head <ref>]     what a change does to every tenant (offline)",
    needsArguments: true,
    usage: `usage: tenancy diff --base <ref> [--head <ref>] [--markdown|--json] [--json-out file]
                    [--target aws|local] [--catalog dir] [--exact] [--rows-from url]

Property-level diff of every tenant's resources between two commits, offline, grouped,
dangerous changes first. A tier move (database mode change) is dangerous; its rows are
counted only with --rows-from.

options:
  --base ref       the commit to compare with (required)
  --head ref       the other side (default: the working tree)
  --markdown       markdown for a pull request (at most 60,000 characters)
  --json           the complete diff as JSON
  --json-out file  also write the complete JSON to file
  --target T       aws (default) or local
  --catalog dir    the catalog (default: tenants/)
  --exact          plan every tenant on its own
  --rows-from url  count, read-only, the rows each tier move would copy, in the tenant's
                   placement per tenant table (url: the control database, as the admin
                   role of db bootstrap: a superuser or BYPASSRLS)
`,
    run: async (argv, io) => (await import("./diffCommand.ts")).diffCommand(argv, io),
  },
  up: {
    summary: "up --all | --changed --base <ref>    roll the catalog out in waves",
    needsArguments: true,
    usage: `usage: tenancy up --all | --changed --base <ref> [--waves 1,10,100] [--parallel 4]
                  [--on-busy wait|skip] [--busy-timeout 600] [--allow-dirty] [--catalog dir] [--json]

Deploys the catalog's tenant stacks (local target); stacks whose desired state is unchanged
are skipped without the engine. Halts on the first failure.

options:
  --all              every stack tenant
  --changed          only the tenants \`tenancy diff --base\` finds affected
  --base ref         the commit to compare with (with --changed)
  --waves list       percentages of the stacks per wave (default: 100)
  --parallel N       stacks at a time in a wave (default: 4)
  --on-busy mode     a tenant with a running operation: wait (default) or skip
  --busy-timeout s   seconds to wait for a busy tenant (default: 600)
  --allow-dirty      deploy uncommitted catalog or program changes
  --catalog dir      the catalog (default: tenants/)
  --json             JSON lines (the default off a terminal)
`,
    run: async (argv, io) => (await import("./upCommand.ts")).upCommand(argv, io),
  },
  preview: {
    summary: "preview [--changed] [--tenant slug]  per-tenant preview (real engine, local target)",
    needsArguments: false,
    usage: `usage: tenancy preview [--changed [--base ref]] [--tenant slug]... [--markdown]
                       [--parallel 4] [--catalog dir]

What \`up\` would change in each tenant stack, per resource (real engine, local target),
grouped like \`tenancy diff\` (identical previews form one group; failures and dangerous
changes first; markdown under 60,000 characters).

options:
  --changed        only the stacks \`tenancy diff --target local\` finds affected since --base
  --base ref       with --changed: the git ref to compare with (default: HEAD, i.e. the
                   working tree's uncommitted changes)
  --tenant slug    only this tenant (repeatable)
  --markdown       markdown summary for a pull request comment
  --parallel N     stacks previewed at a time (default: 4)
  --catalog dir    the catalog (default: tenants/)
`,
    run: async (argv, io) => (await import("./previewCommand.ts")).previewCommand(argv, io),
  },
  serve: {
    summary: "serve [--port 8080]                  the control-plane API and workers",
    needsArguments: false,
    usage: `usage: tenancy serve [--port 8080] [--host 127.0.0.1] [--concurrency 4] [--catalog dir]
                     [--pricing file] [--no-worker] [--insecure-dev-open] [--move-pace ${DEFAULT_COPY_PACE}]

The control-plane API (and the operator console at /console) with job workers, on the
embedded default: embedded PostgreSQL, the local target, a local Pulumi backend.

options:
  --port N              port to listen on (default: PORT or 8080)
  --host H              address to listen on (default: HOST or 127.0.0.1)
  --concurrency N       operations run in parallel (default: 4)
  --catalog dir         the catalog loaded at start (default: tenants/)
  --pricing file        your price table for cost estimates (default: TENANCY_PRICING or
                        pricing.yaml; see pricing.example.yaml, no prices are shipped)
  --no-worker           the API only (run \`tenancy worker\` elsewhere)
  --insecure-dev-open   no authentication (development only; says so loudly)
  --move-pace N         tier moves pause after each copy batch N times its duration, so
                        other tenants keep their latency (default: TENANCY_MOVE_PACE or ${DEFAULT_COPY_PACE};
                        0 copies at full speed)
`,
    run: async (argv, io) => (await import("./serveCommand.ts")).serveCommand(argv, io),
  },
  worker: {
    summary: "worker [--concurrency 4]             job workers only (scale out)",
    needsArguments: false,
    usage: `usage: tenancy worker [--concurrency 4] [--catalog dir] [--move-pace ${DEFAULT_COPY_PACE}]

Job workers only, against the same database as \`tenancy serve\`.

options:
  --concurrency N   operations run in parallel (default: 4)
  --catalog dir     the catalog (default: tenants/)
  --move-pace N     pause of tier moves after each copy batch, N times its duration
                    (default: TENANCY_MOVE_PACE or ${DEFAULT_COPY_PACE})
`,
    run: async (argv, io) => (await import("./serveCommand.ts")).workerCommand(argv, io),
  },
  reconcile: {
    summary:
      "reconcile [--catalog dir]            bring every catalog tenant to its declared state",
    needsArguments: false,
    usage: `usage: tenancy reconcile [--catalog dir] [--concurrency 4] [--json]

Brings every catalog tenant to its declared state through the control plane's operations.

options:
  --catalog dir     the catalog (default: tenants/)
  --concurrency N   operations run in parallel (default: 4)
  --json            JSON lines (the default off a terminal)
`,
    run: async (argv, io) => (await import("./reconcileCommand.ts")).reconcileCommand(argv, io),
  },
  export: {
    summary: "export [--out dir]                   write API-created tenants as catalog files",
    needsArguments: false,
    usage: `usage: tenancy export [--out dir] [--catalog dir]

Writes the tenants created through the API as catalog files.

options:
  --out dir       where to write (default: tenants/)
  --catalog dir   the catalog whose tiers apply (default: tenants/)
`,
    run: async (argv, io) => (await import("./reconcileCommand.ts")).exportCommand(argv, io),
  },
  retry: {
    summary: "retry <slug|operation-id>            run a failed operation again",
    needsArguments: true,
    usage: `usage: tenancy retry <slug|operation-id> [--url URL]

Runs a failed operation again through the running control plane; given a slug, the tenant's
latest operation when it failed.

options:
  --url URL   the control plane (default: TENANCY_API_URL or http://127.0.0.1:8080)
`,
    run: async (argv, io) => (await import("./retryCommand.ts")).retryCommand(argv, io),
  },
  move: {
    summary: "move <slug> --to <tier|mode>         move a tenant's data online",
    needsArguments: true,
    usage: `usage: tenancy move <slug> --to <tier|pool|schema|dedicated> [--grace 24h] [--no-wait] [--url URL]

Moves a tenant's data to another tier (or database mode, as an override of its tier) through
the running control plane (a move operation), one line per step until it ends. The tenant
keeps working; its writes pause for the write fence only. A placement it is in already moves
nothing and says so.

options:
  --to T        a tier name, or a database mode (pool, schema)
  --grace D     how long the old placement stays read-only before its purge: 24h, 30m, 0
                (default: 24h)
  --no-wait     start the move and return
  --url URL     the control plane (default: TENANCY_API_URL or http://127.0.0.1:8080)
`,
    run: async (argv, io) => (await import("./moveCommand.ts")).moveCommand(argv, io),
  },
  refresh: {
    summary: "refresh <slug>                       refresh a tenant's stack; print its drift",
    needsArguments: true,
    usage: `usage: tenancy refresh <slug> [--url URL] [--no-wait] [--json] [--poll-ms 1000]

Refreshes the tenant's stack through the running control plane (an operation), waits for it
and prints the drift report: every property whose recorded state differs from reality.

options:
  --url URL       the control plane (default: TENANCY_API_URL or http://127.0.0.1:8080)
  --no-wait       queue the refresh and return
  --json          the drift report as JSON
  --poll-ms N     how often to look at the operation (default: 1000)
`,
    run: async (argv, io) => (await import("./refreshCommand.ts")).refreshCommand(argv, io),
  },
  usage: {
    summary: "usage [--top|--tenant|--fit|--cost]  per-tenant usage and cost estimates",
    needsArguments: false,
    usage: `usage: tenancy usage [--top 20] [--metric m]            the noisiest tenants (last hour)
       tenancy usage --tenant slug [--step 5m|1h|1d]   one tenant's series (last 24 h)
       tenancy usage --fit [--sustained 15m]           tenants above their tier's budget
       tenancy usage --cost [--tenant slug]            cost estimate from pricing.yaml (last 24 h)

options:
  --top N          how many tenants (1-100, default 20)
  --metric m       the metric to rank by
  --tenant slug    one tenant's series
  --step s         series step: 5m, 1h or 1d
  --fit            tenants above their tier's budget
  --sustained d    how long above the budget counts (with --fit)
  --cost           per-tenant cost: usage × your prices, shared resources apportioned by usage
  --from ISO       start of the range
  --to ISO         end of the range
  --json           machine-readable output
  --url URL        the control plane (default: TENANCY_API_URL or http://127.0.0.1:8080)
`,
    run: async (argv, io) => (await import("./usageCommand.ts")).usageCommand(argv, io),
  },
};
