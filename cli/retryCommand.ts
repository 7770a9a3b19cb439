/**
 * `tenancy retry <slug|operation-id> [--url URL]`: runs a failed operation again through the
 * running control plane (POST /v1/operations/:id/retry). Given a slug, retries the tenant's
 * latest operation when it failed.
 */
import { parseArgs } from "node:util";
import { apiClient } from "./apiClient.ts";
import { UsageError, type CliIo } from "./io.ts";

interface OperationView {
  readonly id: string;
  readonly tenant: string;
  readonly kind: string;
  readonly state: string;
  readonly error: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function retryCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { url: { type: "string" } },
  });
  if (positionals.length !== 1) throw new UsageError("retry needs one tenant slug or operation id");
  const target = positionals[0]!;
  const api = await apiClient(values.url);
  let operationId = target;
  if (!UUID.test(target)) {
    const { operations } = await api.call<{ operations: OperationView[] }>(
      "GET",
      `/v1/tenants/${encodeURIComponent(target)}/operations`,
    );
    const latest = operations[0];
    if (!latest || latest.state !== "failed") {
      io.stderr(
        `tenancy: tenant ${target} has no failed operation to retry` +
          (latest ? ` (its latest, ${latest.kind} ${latest.id}, is ${latest.state})` : "") +
          "\n",
      );
      return 1;
    }
    io.stdout(`${latest.kind} ${latest.id} failed: ${latest.error ?? "(no reason)"}\n`);
    operationId = latest.id;
  }
  const { operation } = await api.call<{ operation: OperationView }>(
    "POST",
    `/v1/operations/${operationId}/retry`,
  );
  io.stdout(
    `retrying as ${operation.kind} ${operation.id} of ${operation.tenant} (${operation.state}); ` +
      `follow: GET /v1/operations/${operation.id}/events\n`,
  );
  return 0;
}
