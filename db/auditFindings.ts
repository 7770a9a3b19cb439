/** The vocabulary of audit findings: a code, the object, what is wrong and how to fix it. */

export type FindingCode =
  | "rls-disabled"
  | "rls-not-forced"
  | "policy-missing"
  | "policy-missing-with-check"
  | "policy-not-tenant-scoped"
  | "tenant-index-missing"
  | "tenant-id-nullable"
  | "tenant-id-type-unsupported"
  | "unique-without-tenant-id"
  | "foreign-key-without-tenant-id"
  | "view-not-security-invoker"
  | "materialized-view-readable"
  | "security-definer-executable"
  | "app-role-missing"
  | "app-role-superuser"
  | "app-role-bypassrls"
  | "app-role-owns-objects"
  | "app-role-can-assume-role"
  | "tenant-role-cross-schema"
  | "database-connect-public"
  | "role-can-connect"
  | "ledger-not-owned"
  | "ledger-accessible"
  | "role-setting-drift"
  | "context-keys-readable"
  | "policy-context-unsigned";

export interface AuditFinding {
  readonly code: FindingCode;
  /** The offending object, e.g. `table app.orders`, `role tenancy_app`. */
  readonly object: string;
  readonly message: string;
  /** What to run or change to fix it. */
  readonly fix: string;
}

export interface AuditReport {
  /** True when there is no finding. */
  readonly clean: boolean;
  /** Tenant tables inspected. */
  readonly tables: number;
  /** Login roles audited as "the application" (app role and tenant roles). */
  readonly roles: readonly string[];
  readonly findings: readonly AuditFinding[];
}

/** One line per finding, for terminals. */
export function formatFinding(finding: AuditFinding): string {
  return `${finding.code}: ${finding.object}: ${finding.message} (fix: ${finding.fix})`;
}
