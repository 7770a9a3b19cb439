/**
 * Aborting a move operation before its switch (POST /v1/operations/:id/abort): the request
 * is written on the operation's stream (`abort-requested`, seen by a mover that has not
 * recorded the move yet) and on the move's record (seen by the mover at its next batch,
 * catch-up round or at the switch). The mover then rolls the move back — target removed, the
 * tenant active on its source — and the operation ends `cancelled`. An abort that comes
 * after the switch is refused: move the tenant back instead.
 */
import type pg from "pg";
import type { DriverOptions } from "../../db/drivers/types.ts";
import { requestMoveAbort } from "../../db/moves/moveTenant.ts";
import { ABORT_REQUESTED } from "../jobs/moveOperation.ts";
import { isFinished } from "../store/records.ts";
import { appendEvent, getOperation, getTenant, hasEvent } from "../store/store.ts";
import { DomainError } from "./domainErrors.ts";
import type { Accepted } from "./tenantService.ts";

export async function abortMoveOperation(
  pool: pg.Pool,
  database: DriverOptions | undefined,
  operationId: string,
): Promise<Accepted> {
  const operation = await getOperation(pool, operationId);
  if (!operation) throw new DomainError("not-found", "operation-not-found", "operation not found");
  if (operation.kind !== "move") {
    throw new DomainError(
      "conflict",
      "operation-not-a-move",
      `operation ${operation.id} is a ${operation.kind} operation; only a move can be aborted`,
    );
  }
  if (isFinished(operation.state)) {
    throw new DomainError(
      "conflict",
      "operation-finished",
      `operation ${operation.id} is ${operation.state}: there is nothing to abort`,
    );
  }
  if (!database) throw new Error("this control plane cannot abort moves (no tenant database)");
  const slug = operation.tenantSlug;
  const ask = async () => {
    if ((await requestMoveAbort({ ...database, slug })) === "switched") {
      throw new DomainError(
        "conflict",
        "move-switched",
        `the move of tenant "${slug}" has switched to its new placement: it can no longer be aborted; move the tenant back instead`,
      );
    }
  };
  await ask();
  if (!(await hasEvent(pool, operation.id, ABORT_REQUESTED))) {
    await appendEvent(pool, operation.id, ABORT_REQUESTED, {
      message: "abort requested: the move is rolled back before its switch",
    });
  }
  // Again: a mover that recorded the move after the first ask and checked the stream
  // before the event was written still sees the abort on the record.
  await ask();
  const tenant = await getTenant(pool, slug);
  if (!tenant) throw new DomainError("not-found", "tenant-not-found", "tenant not found");
  return { tenant, operation: (await getOperation(pool, operation.id)) ?? operation };
}
