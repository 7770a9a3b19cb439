/**
 * `tenancy move <slug> --to <tier|mode> [--grace 24h] [--url URL]`: moves a tenant's data
 * through the running control plane (POST /v1/tenants/:slug/move) and follows the move
 * operation until it ends, one line per step. A target the tenant is in already moves
 * nothing and says so. Exit 0 when the move succeeded, 1 when it failed (with its reason).
 */
import { parseArgs } from "node:util";
import { apiClient } from "./apiClient.ts";
import { UsageError, type CliIo } from "./io.ts";

interface OperationView {
  readonly id: string;
  readonly state: string;
  readonly error: string | null;
}

export async function moveCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      to: { type: "string" },
      grace: { type: "string" },
      url: { type: "string" },
      "no-wait": { type: "boolean" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("move needs one tenant slug");
  if (!values.to) throw new UsageError("move needs --to <tier|pool|schema|dedicated>");
  if (values.grace !== undefined && !/^\d+(ms|s|m|h|d)?$/.test(values.grace)) {
    throw new UsageError(`--grace must look like 24h, 30m, 90s or 0, got "${values.grace}"`);
  }
  const slug = positionals[0]!;
  const api = await apiClient(values.url);
  const started = await api.call<{ operation: OperationView | null; message?: string }>(
    "POST",
    `/v1/tenants/${encodeURIComponent(slug)}/move`,
    { to: values.to, ...(values.grace === undefined ? {} : { grace: values.grace }) },
  );
  if (!started.operation) {
    io.stdout(`${started.message ?? "nothing to move"}\n`);
    return 0;
  }
  const id = started.operation.id;
  io.stdout(`move ${id} of ${slug} to ${values.to}\n`);
  if (values["no-wait"]) return 0;
  for await (const event of api.events(`/v1/operations/${id}/events`)) {
    const data = (event.data ?? {}) as { step?: string; message?: string; reason?: string };
    if (event.type === "move") io.stdout(`${data.step ?? "move"}: ${data.message ?? ""}\n`);
  }
  const operation = await api.call<OperationView>("GET", `/v1/operations/${id}`);
  if (operation.state === "succeeded") {
    io.stdout(`moved: ${slug} is on ${values.to}\n`);
    return 0;
  }
  io.stderr(`tenancy: move ${id} ${operation.state}: ${operation.error ?? "(no reason)"}\n`);
  return 1;
}
