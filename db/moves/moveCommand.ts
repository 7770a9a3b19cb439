/**
 * `tenancy db move --tenant SLUG --to pool|schema|dedicated [--grace 24h] [--copy-pace N]
 * [--migrations DIR]`, and
 * `--abort` (roll back an unswitched move: a mover running elsewhere is asked to stop and rolls
 * back at its next batch; this waits for it) or `--purge` (purge the old placement once its grace
 * period is over; `--grace 0` with `--purge` purges now). Progress: one line per step on stdout.
 */
import { DATABASE_MODES, type DatabaseMode } from "../drivers/types.ts";
import { DEFAULT_MIGRATIONS_DIR, loadMigrationDirectory } from "../migrations/migrationSet.ts";
import { copyPaceFrom, MAX_COPY_PACE } from "./copyPace.ts";
import { TenantMoveError } from "./moveErrors.ts";
import { abortMoveAndWait } from "./abortAndWait.ts";
import { moveTenant, purgeMovedTenant } from "./moveTenant.ts";

export interface MoveCommandInput {
  readonly url: string;
  readonly tenant?: string;
  readonly to?: string;
  readonly grace?: string;
  /** Pause after each copy batch, as a multiple of its duration (see moveTenant). */
  readonly copyPace?: string;
  readonly abort?: boolean;
  readonly purge?: boolean;
  readonly migrations?: string;
  readonly rolePrefix?: string;
  readonly databasePrefix?: string;
  readonly json?: boolean;
}

/** `--copy-pace`: a number from 0 to MAX_COPY_PACE. */
function parsePace(text: string): number {
  const pace = copyPaceFrom(text);
  if (pace === undefined) {
    throw new TenantMoveError(
      `--copy-pace must be a number from 0 to ${MAX_COPY_PACE}, got ${JSON.stringify(text)}`,
      "invalid-copy-pace",
    );
  }
  return pace;
}

/** `24h`, `30m`, `90s`, `500ms`, `0` → milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match)
    throw new TenantMoveError(
      `--grace must look like 24h, 30m, 90s or 0, got ${JSON.stringify(text)}`,
      "invalid-grace",
    );
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? "ms"] ?? 1;
  return Number(match[1]) * unit;
}

/** Runs the command; returns the exit code (usage problems throw TenantMoveError `usage`). */
export async function runMoveCommand(
  input: MoveCommandInput,
  out: (line: string) => void,
): Promise<number> {
  if (!input.tenant) throw new TenantMoveError("move needs --tenant SLUG", "usage");
  const base = {
    adminUrl: input.url,
    slug: input.tenant,
    ...(input.rolePrefix === undefined ? {} : { rolePrefix: input.rolePrefix }),
    ...(input.databasePrefix === undefined ? {} : { databasePrefix: input.databasePrefix }),
  };
  if (input.abort) {
    const outcome = await abortMoveAndWait(base, {
      onWaiting: () =>
        out(`abort of ${input.tenant}'s move requested; waiting for its mover to roll back`),
    });
    out(
      outcome === "aborted"
        ? `move of ${input.tenant} aborted; it stays on its source`
        : `no move of ${input.tenant} to abort`,
    );
    return 0;
  }
  if (input.purge) {
    const report = await purgeMovedTenant({ ...base, force: input.grace === "0" });
    out(
      report
        ? `old placement of ${input.tenant} purged, verified by ${report.verifiedBy}`
        : `nothing to purge for ${input.tenant} (no switched move, or its grace period is not over)`,
    );
    return 0;
  }
  if (!input.to || !(DATABASE_MODES as readonly string[]).includes(input.to)) {
    throw new TenantMoveError(
      `move needs --to ${DATABASE_MODES.join("|")}, got ${input.to ?? "nothing"}`,
      "usage",
    );
  }
  const migrations = await loadMigrationDirectory(input.migrations ?? DEFAULT_MIGRATIONS_DIR);
  const result = await moveTenant({
    ...base,
    to: input.to as DatabaseMode,
    migrations,
    ...(input.grace === undefined ? {} : { graceMs: parseDuration(input.grace) }),
    ...(input.copyPace === undefined ? {} : { copyPace: parsePace(input.copyPace) }),
    onProgress: (p) => {
      if (!input.json) out(`${p.step}: ${p.message}`);
    },
  });
  if (input.json) {
    out(JSON.stringify({ ...result, password: undefined }, null, 2));
  } else {
    for (const t of result.tables)
      out(`${t.table}: ${t.target.rows} rows, checksum ${t.target.checksum}`);
    out(`fenced ${result.fencedMs} ms; routing version ${result.routing.version}`);
    if (result.password) out(`password of ${result.routing.role} (shown once): ${result.password}`);
  }
  return 0;
}
