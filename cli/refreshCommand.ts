/**
 * `tenancy refresh <slug> [--url URL] [--no-wait] [--json]`: refreshes the tenant's stack
 * through the running control plane (POST /v1/tenants/:slug/refresh), waits for the
 * operation and prints its drift report: one line per drifted property, state → live.
 */
import { parseArgs } from "node:util";
import type { DriftReport } from "../control-plane/runner/driftReport.ts";
import { apiClient } from "./apiClient.ts";
import { UsageError, type CliIo } from "./io.ts";

interface OperationView {
  readonly id: string;
  readonly tenant: string;
  readonly state: string;
  readonly error: string | null;
  readonly result?: { drift?: DriftReport };
}

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

export async function refreshCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: "string" },
      "no-wait": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      "poll-ms": { type: "string", default: "1000" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("refresh needs one tenant slug");
  const pollMs = Number(values["poll-ms"]);
  if (!Number.isInteger(pollMs) || pollMs < 10) throw new UsageError("--poll-ms must be ≥ 10");
  const slug = positionals[0]!;
  const api = await apiClient(values.url);
  const { operation: queued } = await api.call<{ operation: OperationView }>(
    "POST",
    `/v1/tenants/${encodeURIComponent(slug)}/refresh`,
  );
  if (values["no-wait"]) {
    io.stdout(`refresh ${queued.id} of ${slug} is ${queued.state}\n`);
    return 0;
  }
  if (io.isTty) io.stderr(`refreshing ${slug} (operation ${queued.id})…\n`);
  let operation = queued;
  while (!FINISHED.has(operation.state)) {
    await new Promise((done) => setTimeout(done, pollMs));
    operation = await api.call<OperationView>("GET", `/v1/operations/${queued.id}`);
  }
  if (operation.state !== "succeeded" || !operation.result?.drift) {
    io.stderr(
      `tenancy: refresh ${operation.id} of ${slug} ${operation.state}: ${operation.error ?? ""}\n`,
    );
    return 1;
  }
  const drift = operation.result.drift;
  if (values.json) {
    io.stdout(`${JSON.stringify(drift)}\n`);
    return 0;
  }
  io.stdout(formatDrift(slug, drift));
  return 0;
}

/** The drift report as text: a summary line, then one line per drifted property. */
export function formatDrift(slug: string, drift: DriftReport): string {
  if (drift.drifted.length === 0) {
    return `${slug}: no drift (${drift.resources} resources read)\n`;
  }
  const lines = [`${slug}: ${drift.drifted.length} of ${drift.resources} resources drifted`];
  for (const resource of drift.drifted) {
    if (resource.drift === "deleted") {
      lines.push(`  ${resource.type} "${resource.name}": deleted out of band`);
      continue;
    }
    for (const p of resource.properties) {
      lines.push(
        `  ${resource.type} "${resource.name}" ${p.path}: ${show(p, "state")} → ${show(p, "live")}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function show(p: DriftReport["drifted"][number]["properties"][number], side: "state" | "live") {
  return side in p ? JSON.stringify(p[side]) : "(absent)";
}
