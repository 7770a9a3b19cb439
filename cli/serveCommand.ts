/**
 * `tenancy serve` (what `npm start` runs): the control plane on the embedded default — API
 * on port 8080, embedded PostgreSQL, the local target, a local Pulumi backend — bringing the
 * catalog's tenants in through the same jobs as API signups. `tenancy worker` runs only the
 * job workers, for horizontal scale against the same database.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { reconcile, reconcileNotes } from "../control-plane/service/reconcile.ts";
import { copyPaceFrom, MAX_COPY_PACE } from "../db/moves/copyPace.ts";
import { DEFAULT_CATALOG_DIR } from "./catalogCommands.ts";
import { UsageError, type CliIo } from "./io.ts";
import { openLocalControlPlane, untilSignal } from "./localControlPlane.ts";

export async function serveCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: "string", default: process.env.PORT ?? "8080" },
      host: { type: "string", default: process.env.HOST ?? "127.0.0.1" },
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      pricing: { type: "string", default: process.env.TENANCY_PRICING ?? "pricing.yaml" },
      concurrency: { type: "string", default: "4" },
      "no-worker": { type: "boolean", default: false },
      "insecure-dev-open": { type: "boolean", default: false },
      "move-pace": { type: "string", default: process.env.TENANCY_MOVE_PACE },
    },
  });
  const moveCopyPace = movePace(values["move-pace"]);
  if (values["insecure-dev-open"]) {
    io.stderr(
      "WARNING: --insecure-dev-open: the API accepts requests WITHOUT a token. Only for a laptop.\n",
    );
  }
  const local = await openLocalControlPlane(io, {
    catalogDir: values.catalog,
    pricingFile: resolve(values.pricing),
    http: true,
    concurrency: values["no-worker"] ? 0 : Number(values.concurrency),
    insecureOpen: values["insecure-dev-open"],
    ...(moveCopyPace === undefined ? {} : { moveCopyPace }),
  });
  if (!local) return 1;
  const url = await local.plane.app!.listen({ host: values.host, port: Number(values.port) });
  io.stdout(`tenancy control plane listening on ${url}\n`);
  io.stdout(`${local.tokenNotice}\n`);
  const steps = await reconcile(local.plane.pool, local.plane.service, local.catalog, undefined, {
    desiredState: local.desiredState,
  });
  const started = steps.filter((s) => s.action !== "unchanged" && s.action !== "refused").length;
  io.stdout(`catalog ${values.catalog}: ${steps.length} tenants, ${started} operations started\n`);
  for (const step of steps.filter((s) => s.action === "refused")) {
    io.stderr(`catalog tenant ${step.slug} not reconciled: ${step.detail}\n`);
  }
  for (const line of reconcileNotes(steps)) io.stderr(`${line}\n`);
  await untilSignal();
  io.stdout("stopping...\n");
  await local.close();
  return 0;
}

export async function workerCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      catalog: { type: "string", default: DEFAULT_CATALOG_DIR },
      concurrency: { type: "string", default: "4" },
      "move-pace": { type: "string", default: process.env.TENANCY_MOVE_PACE },
    },
  });
  const moveCopyPace = movePace(values["move-pace"]);
  const local = await openLocalControlPlane(io, {
    catalogDir: values.catalog,
    http: false,
    concurrency: Number(values.concurrency),
    ...(moveCopyPace === undefined ? {} : { moveCopyPace }),
  });
  if (!local) return 1;
  io.stdout(`tenancy worker running ${values.concurrency} operations at a time\n`);
  await untilSignal();
  await local.close();
  return 0;
}

/** `--move-pace N` (or TENANCY_MOVE_PACE): a number from 0 to MAX_COPY_PACE, or nothing (the default). */
export function movePace(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const pace = copyPaceFrom(text);
  if (pace === undefined) {
    throw new UsageError(
      `--move-pace (or TENANCY_MOVE_PACE) must be a number from 0 to ${MAX_COPY_PACE}, got "${text}"`,
    );
  }
  return pace;
}
