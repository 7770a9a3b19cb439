/**
 * The errors a tenant move shows to applications, by SQLSTATE. Both are retryable; the
 * tenant router (`db/tenantRouter.ts`) retries them once by itself.
 *
 * | SQLSTATE | condition      | meaning                                                                |
 * | -------- | -------------- | ---------------------------------------------------------------------- |
 * | `TN001`  | tenant fenced  | the tenant is being switched to a new placement: writes refused for a  |
 * |          |                | moment (reads go on); retry after a short delay                        |
 * | `TN002`  | tenant moved   | this placement no longer serves the tenant: re-read the routing record |
 * |          |                | and retry on the new placement                                         |
 */

/** SQLSTATE raised on a write of a tenant under the move's write fence. */
export const TENANT_FENCED_SQLSTATE = "TN001";
/** SQLSTATE raised on the old placement of a moved tenant (writes always, reads via assert_routing). */
export const TENANT_MOVED_SQLSTATE = "TN002";

/** Whether `error` is one of the retryable move errors (by SQLSTATE). */
export function isTenantMoveError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return code === TENANT_FENCED_SQLSTATE || code === TENANT_MOVED_SQLSTATE;
}

/** A move refused before anything was copied, or a step that failed; names the tenant. */
export class TenantMoveError extends Error {
  override readonly name = "TenantMoveError";
  constructor(
    message: string,
    /** Machine-readable reason, e.g. `same-placement`, `table-without-key`, `verify-failed`. */
    readonly reason: string,
  ) {
    super(message);
  }
}
