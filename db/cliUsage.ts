/** Usage of `tenancy db`, apart from the command so the CLI lists it without loading it. */
import { DEFAULT_COPY_PACE } from "./moves/copyPace.ts";

export const DB_USAGE = `usage: tenancy db <command> [--database-url URL] [--json] [options]

commands:
  bootstrap   create managed roles, platform schema, registry, grants (idempotent)
              passwords: env TENANCY_APP_PASSWORD, TENANCY_AUDIT_PASSWORD (kept when unset)
              --signed-context | --plain-context: turn the signed tenant context on/off
              (kept when neither); env TENANCY_CONTEXT_KEY (hex, 32-64 bytes) and
              TENANCY_CONTEXT_KEY_ID (default 1) add or replace a signing key
  protect     enable + force RLS, write the tenant policy and tenant_id index [--schema S]...
  audit       report isolation defects; exit 1 when there is any [--schema S]...
              [--control-database NAME]... (no managed role may connect to it)
  migrate     apply tenant migrations to the shared schema, every tenant_* schema and every
              dedicated database [--migrations DIR] [--concurrency N] [--no-dedicated]
  purge       offboard a tenant and verify nothing remains --tenant SLUG [--tenant-id UUID]
  move        move a tenant's data online --tenant SLUG --to pool|schema|dedicated [--grace 24h]
              [--copy-pace ${DEFAULT_COPY_PACE}] [--migrations DIR]; --copy-pace N pauses after each copy batch
              N times its duration (0: full speed); --abort rolls an unswitched move back (a running mover
              is asked to stop at its next batch; waits for it); --purge purges the
              old placement after its grace period (--purge --grace 0: now)

options:
  --database-url URL     superuser URL of the control database (default: env DATABASE_URL)
  --role-prefix P        prefix of the managed roles (default: tenancy)
  --database-prefix P    prefix of dedicated tenant databases (default: tenant)
  --shared-schema S      schema of pooled application tables (default: app)
  --json                 machine-readable output
`;
