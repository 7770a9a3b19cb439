/**
 * Control-plane schema, versioned. Applied under an advisory lock so several service or
 * worker processes starting together apply each migration exactly once.
 */
import type pg from "pg";

export const SCHEMA = "control_plane";

const MIGRATIONS: readonly { readonly id: number; readonly sql: string }[] = [
  {
    id: 1,
    sql: `
      CREATE TABLE control_plane.tenants (
        slug        text PRIMARY KEY,
        name        text NOT NULL,
        tier        text NOT NULL,
        source      text NOT NULL CHECK (source IN ('catalog', 'api')),
        spec        jsonb NOT NULL,
        resolved    jsonb NOT NULL,
        state       text NOT NULL CHECK (state IN ('provisioning', 'active', 'updating', 'suspended',
                                                   'offboarding', 'failed', 'deleted')),
        routing     jsonb,
        last_error  text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE control_plane.operations (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_slug  text NOT NULL REFERENCES control_plane.tenants (slug),
        kind         text NOT NULL CHECK (kind IN ('signup', 'update', 'offboard')),
        tier         text NOT NULL,
        state        text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
        attempts     int NOT NULL DEFAULT 0,
        input        jsonb NOT NULL DEFAULT '{}',
        result       jsonb,
        error        text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        started_at   timestamptz,
        finished_at  timestamptz
      );
      CREATE INDEX operations_tenant ON control_plane.operations (tenant_slug, created_at);
      CREATE TABLE control_plane.operation_events (
        id            bigserial PRIMARY KEY,
        operation_id  uuid NOT NULL REFERENCES control_plane.operations (id),
        at            timestamptz NOT NULL DEFAULT now(),
        type          text NOT NULL,
        data          jsonb NOT NULL
      );
      CREATE INDEX operation_events_op ON control_plane.operation_events (operation_id, id);
      CREATE TABLE control_plane.idempotency_keys (
        key           text PRIMARY KEY,
        request_hash  text NOT NULL,
        status        int NOT NULL,
        response      jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE control_plane.deletion_reports (
        operation_id  uuid PRIMARY KEY REFERENCES control_plane.operations (id),
        tenant_slug   text NOT NULL,
        report        jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    // Changes queued for a tenant that is then offboarded are cancelled, never run.
    id: 2,
    sql: `
      ALTER TABLE control_plane.operations DROP CONSTRAINT operations_state_check;
      ALTER TABLE control_plane.operations ADD CONSTRAINT operations_state_check
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
    `,
  },
  {
    // An operation that needs the Pulumi engine while it is being built waits for it.
    id: 3,
    sql: `
      ALTER TABLE control_plane.operations DROP CONSTRAINT operations_state_check;
      ALTER TABLE control_plane.operations ADD CONSTRAINT operations_state_check
        CHECK (state IN ('queued', 'waiting-for-engine', 'running', 'succeeded', 'failed', 'cancelled'));
    `,
  },
  {
    // Per-tenant usage (control-plane/usage/): 5-minute buckets, daily rollups, the counter
    // claims already applied (exactly-once collection), and the gaps of failed collections.
    // The daily table repeats the 5-minute table's columns on purpose (a rollup has the same
    // series), and an applied migration's text is never changed.
    id: 4,
    sql: `
      CREATE TABLE control_plane.usage_5m (
        tenant_slug       text NOT NULL,
        bucket            timestamptz NOT NULL,
        tier              text,
        statements        bigint NOT NULL DEFAULT 0,
        statement_us      bigint NOT NULL DEFAULT 0,
        rows_read         bigint NOT NULL DEFAULT 0,
        rows_written      bigint NOT NULL DEFAULT 0,
        transactions      bigint NOT NULL DEFAULT 0,
        api_calls         bigint NOT NULL DEFAULT 0,
        operations        integer,
        connections_now   integer,
        connections_peak  integer,
        storage_rows      bigint,
        storage_bytes     bigint,
        quota_used        jsonb,
        samples           integer NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_slug, bucket)
      );
      CREATE INDEX usage_5m_bucket ON control_plane.usage_5m (bucket);
      CREATE TABLE control_plane.usage_daily (
        tenant_slug       text NOT NULL,
        day               date NOT NULL,
        tier              text,
        statements        bigint NOT NULL,
        statement_us      bigint NOT NULL,
        rows_read         bigint NOT NULL,
        rows_written      bigint NOT NULL,
        transactions      bigint NOT NULL,
        api_calls         bigint NOT NULL,
        operations        integer,
        connections_now   integer,
        connections_peak  integer,
        storage_rows      bigint,
        storage_bytes     bigint,
        quota_used        jsonb,
        samples           integer NOT NULL,
        PRIMARY KEY (tenant_slug, day)
      );
      CREATE INDEX usage_daily_day ON control_plane.usage_daily (day);
      CREATE TABLE control_plane.usage_rollups (day date PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE control_plane.usage_claims (
        claim       uuid PRIMARY KEY,
        source      text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE control_plane.usage_gaps (
        bucket  timestamptz NOT NULL,
        source  text NOT NULL,
        reason  text NOT NULL,
        at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (bucket, source)
      );
      CREATE TABLE control_plane.usage_state (key text PRIMARY KEY, at timestamptz NOT NULL);
    `,
  },
  {
    // A refresh of the tenant's stack, with its drift report as the result.
    id: 5,
    sql: `
      ALTER TABLE control_plane.operations DROP CONSTRAINT operations_kind_check;
      ALTER TABLE control_plane.operations ADD CONSTRAINT operations_kind_check
        CHECK (kind IN ('signup', 'update', 'offboard', 'refresh'));
    `,
  },
  {
    // Tier moves with data: a `move` operation, and the `moving` state of its tenant.
    id: 6,
    sql: `
      ALTER TABLE control_plane.operations DROP CONSTRAINT operations_kind_check;
      ALTER TABLE control_plane.operations ADD CONSTRAINT operations_kind_check
        CHECK (kind IN ('signup', 'update', 'move', 'offboard', 'refresh'));
      ALTER TABLE control_plane.tenants DROP CONSTRAINT tenants_state_check;
      ALTER TABLE control_plane.tenants ADD CONSTRAINT tenants_state_check
        CHECK (state IN ('provisioning', 'active', 'updating', 'suspended', 'moving',
                         'offboarding', 'failed', 'deleted'));
    `,
  },
];

export async function migrateControlPlane(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext('tenancy:control-plane:migrate'))");
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (id int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ id: number }>(`SELECT id FROM ${SCHEMA}.schema_migrations`)).rows.map(
        (r) => r.id,
      ),
    );
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.id)) continue;
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${SCHEMA}.schema_migrations (id) VALUES ($1)`, [
          migration.id,
        ]);
        await client.query("COMMIT");
        applied.push(migration.id);
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
    await restrictConnect(client);
    return applied;
  } finally {
    await client
      .query("SELECT pg_advisory_unlock(hashtext('tenancy:control-plane:migrate'))")
      .catch(() => undefined);
    client.release();
  }
}

/**
 * Only the control plane's own role may connect to its database: PostgreSQL's default
 * CONNECT for PUBLIC would let the application role and every tenant's login (whose password
 * the tenant holds) in, to take the control plane's advisory locks. Re-asserted at every start.
 */
async function restrictConnect(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ db: string }>(
    "SELECT quote_ident(current_database()) AS db",
  );
  const database = rows[0]!.db;
  try {
    await client.query("BEGIN");
    await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${database} FROM PUBLIC`);
    await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${database} TO CURRENT_USER`);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw new Error(
      `cannot restrict CONNECT on the control-plane database ${database} (the control plane's role must own it): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
