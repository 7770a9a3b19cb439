/** Rows of the control-plane store, as the rest of the control plane sees them. */
import type { TenantFile } from "../../catalog/index.ts";
import type { ResolvedTenant, RoutingRecord } from "../../contract/index.ts";

export const TENANT_STATES = [
  "provisioning",
  "active",
  "updating",
  "suspended",
  /** Its data is being moved to another placement (a `move` operation runs). */
  "moving",
  "offboarding",
  "failed",
  "deleted",
] as const;
export type TenantState = (typeof TENANT_STATES)[number];

export const OPERATION_KINDS = ["signup", "update", "move", "offboard", "refresh"] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];
export const OPERATION_STATES = [
  "queued",
  /** Needs the Pulumi engine, which is being built: runs when it is there (no attempt used). */
  "waiting-for-engine",
  "running",
  "succeeded",
  "failed",
  "cancelled",
] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

/** An operation that will not run (again). */
export function isFinished(state: OperationState): boolean {
  return state === "succeeded" || state === "failed" || state === "cancelled";
}

export interface TenantRecord {
  readonly slug: string;
  readonly name: string;
  readonly tier: string;
  readonly source: "catalog" | "api";
  readonly spec: TenantFile;
  readonly resolved: ResolvedTenant;
  readonly state: TenantState;
  /** Where the tenant's things are (contract/routing.ts); null until first provisioned. */
  readonly routing: RoutingRecord | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface OperationRecord {
  readonly id: string;
  readonly tenantSlug: string;
  readonly kind: OperationKind;
  readonly tier: string;
  readonly state: OperationState;
  readonly attempts: number;
  readonly input: unknown;
  readonly result: unknown;
  readonly error: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface OperationEvent {
  readonly id: number;
  readonly operationId: string;
  readonly at: string;
  readonly type: string;
  readonly data: unknown;
}
