/**
 * Platform objects of tenant moves (run as the owner role, by bootstrap and by the mover):
 *
 * - `tenancy.tenant_moves`: one row per tenant being moved (phase, source, target, copy
 *   checkpoints, grace deadline, whether an abort was asked for) — what a re-run resumes from;
 * - `tenancy.tenant_move_changes`: keys of rows written by the tenant during the copy,
 *   captured by per-move triggers (see captureSql.ts), applied and deleted by the mover;
 * - `tenancy.retired_placements`: where a tenant no longer lives (tenant, schema, the routing
 *   version that retired it), readable by every role through RLS (each tenant sees its own);
 * - `tenancy.assert_routing(version)`: raises TN002 when the caller's routing is older than
 *   the retirement of the placement it is connected to (the tenant router calls it first).
 */
import { PLATFORM_SCHEMA, quoteIdent } from "../identifiers.ts";
import { TENANT_MOVED_SQLSTATE } from "./moveErrors.ts";

const platform = quoteIdent(PLATFORM_SCHEMA);

/** Objects every protected database carries (the control database and dedicated ones). */
export const RETIRED_PLACEMENTS_SQL = `
CREATE TABLE IF NOT EXISTS ${platform}.retired_placements (
  tenant_id uuid NOT NULL,
  schema_name text NOT NULL,
  routing_version bigint NOT NULL,
  retired_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, schema_name)
);
ALTER TABLE ${platform}.retired_placements ENABLE ROW LEVEL SECURITY;
ALTER TABLE ${platform}.retired_placements FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON ${platform}.retired_placements;
CREATE POLICY tenant_isolation ON ${platform}.retired_placements AS PERMISSIVE FOR SELECT TO PUBLIC
  USING (tenant_id = (SELECT ${platform}.current_tenant_id()));
REVOKE ALL ON ${platform}.retired_placements FROM PUBLIC;
GRANT SELECT ON ${platform}.retired_placements TO PUBLIC;
CREATE OR REPLACE FUNCTION ${platform}.assert_routing(known_version bigint) RETURNS void
LANGUAGE plpgsql STABLE SECURITY INVOKER AS $fn$
DECLARE
  retired bigint;
BEGIN
  -- current_schema() is NULL once the session's schema was dropped (a purged schema
  -- placement): any retirement of the tenant newer than the caller's routing then applies.
  SELECT max(r.routing_version) INTO retired FROM ${platform}.retired_placements r
   WHERE r.tenant_id = ${platform}.current_tenant_id()
     AND (r.schema_name = pg_catalog.current_schema() OR pg_catalog.current_schema() IS NULL);
  IF retired IS NOT NULL AND retired > known_version THEN
    RAISE EXCEPTION 'tenant moved: this placement (schema %) no longer serves the tenant since routing version %', coalesce(pg_catalog.current_schema(), '(dropped)'), retired
      USING ERRCODE = '${TENANT_MOVED_SQLSTATE}',
            HINT = 're-read the tenant routing record and retry on the new placement';
  END IF;
END
$fn$;
COMMENT ON FUNCTION ${platform}.assert_routing(bigint) IS
  'Raises ${TENANT_MOVED_SQLSTATE} when the tenant context was moved away from this placement after routing version known_version.';
`;

/**
 * The change table alone: the control database has it (moves out of the shared database),
 * and a dedicated database gets it when a move takes a tenant out of it (the capture
 * triggers write into the change table of their own database).
 */
export const MOVE_CHANGES_SQL = `
CREATE TABLE IF NOT EXISTS ${platform}.tenant_move_changes (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  table_oid oid NOT NULL,
  key jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS tenant_move_changes_tenant_idx
  ON ${platform}.tenant_move_changes (tenant_id, table_oid, id);
REVOKE ALL ON ${platform}.tenant_move_changes FROM PUBLIC;
`;

/** Objects of the control database only (next to the registry). */
export const MOVE_STATE_SQL = `
ALTER TABLE ${platform}.tenants ADD COLUMN IF NOT EXISTS routing_version bigint NOT NULL DEFAULT 1;
CREATE TABLE IF NOT EXISTS ${platform}.tenant_moves (
  tenant_id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  phase text NOT NULL CHECK (phase IN ('copying', 'catching-up', 'switched')),
  source jsonb NOT NULL,
  target jsonb NOT NULL,
  checkpoints jsonb NOT NULL DEFAULT '{}'::jsonb,
  grace_ms bigint NOT NULL CHECK (grace_ms >= 0),
  purge_after timestamptz,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE ${platform}.tenant_moves ADD COLUMN IF NOT EXISTS abort_requested boolean NOT NULL DEFAULT false;
${MOVE_CHANGES_SQL}
REVOKE ALL ON ${platform}.tenant_moves FROM PUBLIC;
`;
