/**
 * The table the tenant context library flushes its per-tenant counters into, in every
 * bootstrapped database (platform schema). Applications insert; only the control plane's
 * sampler reads, claims and deletes. `flushed_by` is always the inserting role (CHECK), so
 * the sampler can refuse counters a tenant role wrote for another tenant: roles may insert
 * only the counter columns (column privileges), so `flushed_by` keeps its default.
 */
import { PLATFORM_SCHEMA, quoteIdent } from "../identifiers.ts";

export const USAGE_FLUSH_TABLE = `${quoteIdent(PLATFORM_SCHEMA)}.usage_flush`;

/** DDL run as the owner role by bootstrap; idempotent. */
export const USAGE_FLUSH_SQL = `
CREATE TABLE IF NOT EXISTS ${USAGE_FLUSH_TABLE} (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  flushed_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  flushed_by name NOT NULL DEFAULT current_user,
  statements bigint NOT NULL CHECK (statements >= 0),
  statement_us bigint NOT NULL CHECK (statement_us >= 0),
  rows_read bigint NOT NULL CHECK (rows_read >= 0),
  rows_written bigint NOT NULL CHECK (rows_written >= 0),
  transactions bigint NOT NULL CHECK (transactions >= 0),
  api_calls bigint NOT NULL CHECK (api_calls >= 0),
  peak_concurrency integer NOT NULL CHECK (peak_concurrency >= 0),
  claim uuid
);
CREATE INDEX IF NOT EXISTS usage_flush_claim ON ${USAGE_FLUSH_TABLE} (claim);
COMMENT ON TABLE ${USAGE_FLUSH_TABLE} IS
  'Per-tenant usage counters flushed by the tenant context library; collected and deleted by the control plane.';
REVOKE ALL ON ${USAGE_FLUSH_TABLE} FROM PUBLIC;
GRANT INSERT (tenant_id, statements, statement_us, rows_read, rows_written, transactions,
  api_calls, peak_concurrency) ON ${USAGE_FLUSH_TABLE} TO PUBLIC;
GRANT USAGE ON SEQUENCE ${quoteIdent(PLATFORM_SCHEMA)}.usage_flush_id_seq TO PUBLIC;
`;

/** Prefix of the `application_name` set while a connection runs a tenant's transaction. */
export const TENANT_APPLICATION_NAME_PREFIX = "tenancy:";
