/**
 * `tenancy reconcile`: brings every catalog tenant to its declared state through the same
 * jobs as the API, and waits for them — a progress bar on a terminal, JSON lines otherwise.
 * `tenancy export --out dir`: API-created tenants as catalog files.
 */
import { parseArgs } from "node:util";
import { getOperation } from "../control-plane/store/store.ts";
import { exportTenants, reconcile, reconcileNotes } from "../control-plane/service/reconcile.ts";
import { DEFAULT_CATALOG_DIR } from "./catalogCommands.ts";
import type { CliIo } from "./io.ts";
import { openLocalControlPlane } from "./localControlPlane.ts";

export async function reconcileCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      concurrency: { type: "string", default: "4" },
      json: { type: "boolean", default: !io.isTty },
    },
  });
  const local = await openLocalControlPlane(io, {
    catalogDir: values.catalog,
    http: false,
    concurrency: Number(values.concurrency),
  });
  if (!local) return 1;
  try {
    const emit = (record: object) => values.json && io.stdout(JSON.stringify(record) + "\n");
    const steps = await reconcile(
      local.plane.pool,
      local.plane.service,
      local.catalog,
      (step) => emit({ event: "planned", ...step }),
      { desiredState: local.desiredState },
    );
    if (!values.json) for (const line of reconcileNotes(steps)) io.stderr(`${line}\n`);
    const pending = new Map(
      steps.filter((s) => s.operationId).map((s) => [s.operationId!, s.slug]),
    );
    const total = pending.size;
    let failed = 0;
    while (pending.size > 0) {
      for (const [id, slug] of pending) {
        const operation = await getOperation(local.plane.pool, id);
        if (operation?.state === "succeeded" || operation?.state === "failed") {
          pending.delete(id);
          if (operation.state === "failed") failed++;
          emit({
            event: "finished",
            slug,
            operationId: id,
            state: operation.state,
            error: operation.error,
          });
        }
      }
      if (!values.json)
        io.stdout(`\r${bar(total - pending.size, total)} ${failed ? `(${failed} failed)` : ""}`);
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 500));
    }
    if (!values.json) io.stdout("\n");
    const refused = steps.filter((s) => s.action === "refused");
    for (const step of refused) io.stderr(`${step.slug}: ${step.detail}\n`);
    const summary = {
      event: "summary",
      tenants: steps.length,
      operations: total,
      failed,
      refused: refused.length,
    };
    if (values.json) emit(summary);
    else
      io.stdout(
        `${steps.length} tenants, ${total} operations, ${failed} failed, ${refused.length} refused\n`,
      );
    return failed || refused.length ? 1 : 0;
  } finally {
    await local.close();
  }
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
}

export async function exportCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: "string", default: DEFAULT_CATALOG_DIR },
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
    },
  });
  const local = await openLocalControlPlane(io, {
    catalogDir: values.catalog,
    http: false,
    concurrency: 0,
  });
  if (!local) return 1;
  try {
    for (const file of await exportTenants(local.plane.pool, values.out))
      io.stdout(`wrote ${file}\n`);
    return 0;
  } finally {
    await local.close();
  }
}
