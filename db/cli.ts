/**
 * `tenancy db bootstrap | protect | audit | migrate | purge`: the command-line face of the
 * PostgreSQL isolation layer. The lead's CLI delegates `tenancy db ...` here.
 *
 * Exit codes: 0 success, 1 audit findings or a failed operation, 2 usage error.
 * Errors are one line on stderr, never a stack trace.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { auditDatabase, formatFinding } from "./audit.ts";
import { bootstrapDatabase } from "./bootstrap.ts";
import { assertSigningKey, type ContextSigningKey } from "./contextSigning.ts";
import { assertSchemaName } from "./identifiers.ts";
import { migrateAll } from "./migrations/migrateAll.ts";
import type { MigrateSummary } from "./migrations/migrateSchemas.ts";
import { DEFAULT_MIGRATIONS_DIR, loadMigrationDirectory } from "./migrations/migrationSet.ts";
import { DB_USAGE } from "./cliUsage.ts";
import { TenantMoveError } from "./moves/moveErrors.ts";
import { runMoveCommand } from "./moves/moveCommand.ts";
import { protectDatabase } from "./protect.ts";
import { purgeTenant, type PurgeReport } from "./purge.ts";
import { errorMessage, redactUrl, withClient } from "./transaction.ts";

export interface DbCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export { DB_USAGE };

class UsageError extends Error {}

const OPTIONS = {
  "database-url": { type: "string" },
  json: { type: "boolean", default: false },
  schema: { type: "string", multiple: true },
  "role-prefix": { type: "string" },
  "database-prefix": { type: "string" },
  "shared-schema": { type: "string" },
  migrations: { type: "string" },
  concurrency: { type: "string" },
  "no-dedicated": { type: "boolean", default: false },
  "control-database": { type: "string", multiple: true },
  tenant: { type: "string" },
  "tenant-id": { type: "string" },
  to: { type: "string" },
  grace: { type: "string" },
  "copy-pace": { type: "string" },
  abort: { type: "boolean", default: false },
  purge: { type: "boolean", default: false },
  "signed-context": { type: "boolean", default: false },
  "plain-context": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parse>["values"];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Runs `tenancy db <argv...>`; returns the exit code. */
export async function runDbCommand(argv: string[], io: DbCommandIo): Promise<number> {
  let command: string | undefined;
  try {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (error) {
      throw new UsageError(errorMessage(error));
    }
    const { values, positionals } = parsed;
    command = positionals[0];
    if (values.help || command === "help") {
      io.stdout(DB_USAGE);
      return 0;
    }
    if (!command) throw new UsageError("missing command");
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
    const url = values["database-url"] ?? process.env.DATABASE_URL;
    if (!url) throw new UsageError("no database: pass --database-url URL or set DATABASE_URL");
    try {
      new URL(url);
    } catch {
      throw new UsageError(`--database-url is not a URL: ${redactUrl(url)}`);
    }
    const handler = COMMANDS[command];
    if (!handler) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    return await handler(url, values, io);
  } catch (error) {
    const where = command ? `tenancy db ${command}` : "tenancy db";
    io.stderr(`${where}: error: ${oneLine(errorMessage(error))}\n`);
    if (
      error instanceof UsageError ||
      (error instanceof TenantMoveError && error.reason === "usage")
    ) {
      io.stderr(DB_USAGE.split("\n")[0] + "\n");
      return 2;
    }
    return 1;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

type Handler = (url: string, values: Values, io: DbCommandIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Handler>> = {
  move: (url, values, io) =>
    runMoveCommand(
      {
        url,
        ...optional("tenant", values.tenant),
        ...optional("to", values.to),
        ...optional("grace", values.grace),
        ...optional("copyPace", values["copy-pace"]),
        abort: values.abort,
        purge: values.purge,
        ...optional("migrations", values.migrations),
        ...optional("rolePrefix", values["role-prefix"]),
        ...optional("databasePrefix", values["database-prefix"]),
        json: values.json,
      },
      (line) => io.stdout(`${line}\n`),
    ),

  async bootstrap(url, values, io) {
    if (values["signed-context"] && values["plain-context"]) {
      throw new UsageError("--signed-context and --plain-context exclude each other");
    }
    const mode = values["signed-context"] ? true : values["plain-context"] ? false : undefined;
    const key = contextKeyFromEnv();
    const result = await withClient(pg, url, (client) =>
      bootstrapDatabase(client, {
        ...common(values),
        ...optional("appPassword", process.env.TENANCY_APP_PASSWORD),
        ...optional("auditPassword", process.env.TENANCY_AUDIT_PASSWORD),
        ...(mode === undefined ? {} : { signedContext: mode }),
        ...(key ? { contextKeys: [key] } : {}),
      }),
    );
    if (values.json) {
      io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      io.stdout(
        `bootstrapped ${redactUrl(url)}\n` +
          `  owner role: ${result.roles.owner}\n  app role:   ${result.roles.app}\n` +
          `  audit role: ${result.roles.audit}\n  schemas:    ${result.platformSchema}, ${result.sharedSchema}\n` +
          `  created:    ${result.createdRoles.join(", ") || "nothing (already bootstrapped)"}\n` +
          `  context:    ${result.signedContext ? `signed${key ? ` (key ${key.id} set)` : ""}` : "plain"}\n`,
      );
    }
    return 0;
  },

  async protect(url, values, io) {
    const report = await withClient(pg, url, (client) => protectDatabase(client, schemas(values)));
    if (values.json) {
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      for (const table of report.tables) {
        const what = table.skipped
          ? `skipped: ${table.skipped}`
          : table.actions.join(", ") || "already protected";
        io.stdout(`${table.table}: ${what}\n`);
      }
      io.stdout(`protected ${report.tables.length} tables, changed ${report.changed}\n`);
    }
    return report.tables.some((t) => t.skipped) ? 1 : 0;
  },

  async audit(url, values, io) {
    const report = await withClient(pg, url, (client) =>
      auditDatabase(client, {
        ...common(values),
        ...schemas(values),
        controlDatabases: values["control-database"] ?? [],
      }),
    );
    if (values.json) {
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      for (const finding of report.findings) io.stdout(`${formatFinding(finding)}\n`);
      io.stdout(
        report.clean
          ? `audit clean: ${report.tables} tenant tables, roles ${report.roles.join(", ")}\n`
          : `${report.findings.length} findings in ${report.tables} tenant tables\n`,
      );
    }
    return report.clean ? 0 : 1;
  },

  async migrate(url, values, io) {
    const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new UsageError(`--concurrency must be an integer 1..64, got ${values.concurrency}`);
    }
    const migrations = await loadMigrationDirectory(values.migrations ?? DEFAULT_MIGRATIONS_DIR);
    const summary = await migrateAll({
      url,
      migrations,
      concurrency,
      dedicated: !values["no-dedicated"],
      ...common(values),
    });
    io.stdout(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatMigrate(summary));
    return summary.failed > 0 ? 1 : 0;
  },

  async purge(url, values, io) {
    if (!values.tenant) throw new UsageError("purge needs --tenant SLUG");
    let report: PurgeReport;
    try {
      report = await purgeTenant({
        adminUrl: url,
        slug: values.tenant,
        ...optional("tenantId", values["tenant-id"]),
        ...optional("rolePrefix", values["role-prefix"]),
        ...optional("databasePrefix", values["database-prefix"]),
      });
    } catch (error) {
      const partial = (error as { report?: PurgeReport }).report;
      if (partial && values.json) io.stdout(`${JSON.stringify(partial, null, 2)}\n`);
      throw error;
    }
    if (values.json) {
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      for (const t of report.tables) {
        io.stdout(`${t.table}: deleted ${t.deleted}, remaining ${t.remaining}\n`);
      }
      for (const o of report.objects) {
        io.stdout(
          `${o.kind} ${o.name}: ${o.removed ? "removed" : "absent"}, remaining ${o.remaining}\n`,
        );
      }
      io.stdout(`purge of ${report.slug} verified by ${report.verifiedBy}\n`);
    }
    return 0;
  },
};

/**
 * The signing key from TENANCY_CONTEXT_KEY (hex, 32..64 bytes) and TENANCY_CONTEXT_KEY_ID
 * (default 1); undefined when the key is unset.
 */
function contextKeyFromEnv(): ContextSigningKey | undefined {
  const hex = process.env.TENANCY_CONTEXT_KEY;
  if (hex === undefined || hex === "") return undefined;
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) {
    throw new UsageError("TENANCY_CONTEXT_KEY must be hex (e.g. openssl rand -hex 32)");
  }
  const idText = process.env.TENANCY_CONTEXT_KEY_ID ?? "1";
  try {
    return assertSigningKey({
      id: /^[0-9]+$/.test(idText) ? Number(idText) : NaN,
      key: Buffer.from(hex, "hex"),
    });
  } catch (error) {
    throw new UsageError(`TENANCY_CONTEXT_KEY / TENANCY_CONTEXT_KEY_ID: ${errorMessage(error)}`);
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function common(values: Values): { rolePrefix?: string; sharedSchema?: string } {
  return {
    ...optional("rolePrefix", values["role-prefix"]),
    ...optional("sharedSchema", values["shared-schema"]),
  };
}

function schemas(values: Values): { schemas?: string[] } {
  const list = values.schema?.map((s) => assertSchemaName(s));
  return list && list.length > 0 ? { schemas: list } : {};
}

function formatMigrate(summary: MigrateSummary): string {
  const lines = summary.results
    .filter((r) => r.status !== "up-to-date")
    .map((r) =>
      r.status === "applied"
        ? `${r.database}.${r.schema}: applied ${r.applied.join(", ")}`
        : `${r.database}.${r.schema}: ${r.status}${r.error ? `: ${r.error}` : ""}`,
    );
  lines.push(
    `${summary.schemas} schemas: ${summary.applied} migrated, ${summary.upToDate} up to date, ` +
      `${summary.failed} failed, ${summary.notStarted} not started (${summary.durationMs} ms)`,
  );
  return `${lines.join("\n")}\n`;
}
