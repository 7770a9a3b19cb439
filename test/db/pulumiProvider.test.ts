/**
 * The TenantDatabase dynamic provider's create/diff/update/delete, called directly against
 * PostgreSQL, and once through the text Pulumi serialises, evaluated in a fresh Node process
 * the way the dynamic-provider host does (require-from-string), proving that the closure
 * captures nothing that cannot cross the process boundary.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  TenantDatabaseInputs,
  TenantDatabaseOutputs,
} from "../../db/pulumi/providerRuntime.ts";
import { tenantDatabaseProvider } from "../../db/pulumi/tenantDatabaseObjects.ts";
import { connectionSettingsFor } from "../../db/routing.ts";
import { withDatabaseName } from "../../db/transaction.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { bootstrapped, withAdmin, type Bootstrapped } from "./fixtures.ts";

const run = promisify(execFile);
const db = useTestDatabase();
let env: Bootstrapped;

beforeAll(async () => {
  env = await bootstrapped(db.current);
});
afterAll(() => env.close());

const inputs = (over: Partial<TenantDatabaseInputs> = {}): TenantDatabaseInputs => ({
  adminUrl: db.current.url,
  slug: "orbit",
  mode: "schema",
  quotas: { dbConnections: 2, statementTimeoutMs: 500 },
  rolePrefix: db.current.rolePrefix,
  databasePrefix: db.current.name,
  ...over,
});

async function roleSettings(role: string) {
  return withAdmin(db.current, async (c) => {
    const { rows } = await c.query<{ limit: number; config: string[] }>(
      "SELECT rolconnlimit AS limit, rolconfig AS config FROM pg_roles WHERE rolname = $1",
      [role],
    );
    return rows[0];
  });
}

/** Runs one statement as the administrator in `database` of the test server. */
async function inDatabase(database: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabaseName(db.current.url, database) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The tenant's role logs in with the recorded password and reads its schema. */
async function canConnectAndRead(outs: TenantDatabaseOutputs): Promise<void> {
  const client = new pg.Client(connectionSettingsFor(outs, { password: outs.password }));
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string }>("SELECT current_schema() AS schema");
    expect(rows).toEqual([{ schema: outs.schema }]);
  } finally {
    await client.end();
  }
}

describe("TenantDatabase provider", () => {
  it("diff: quotas update in place, slug/mode/prefix replace with delete-before-replace", async () => {
    const olds = { ...inputs(), tenantId: "t", password: "p", version: 1 } as TenantDatabaseOutputs;
    expect(await tenantDatabaseProvider.diff("id", olds, inputs())).toMatchObject({
      changes: false,
      replaces: [],
    });
    // A state written before `version` was an output is updated in place once, to record it.
    const { version: _version, ...beforeVersion } = olds;
    expect(await tenantDatabaseProvider.diff("id", beforeVersion, inputs())).toMatchObject({
      changes: true,
      replaces: [],
    });
    const quota = await tenantDatabaseProvider.diff(
      "id",
      olds,
      inputs({ quotas: { dbConnections: 5, statementTimeoutMs: 500 } }),
    );
    expect(quota).toMatchObject({ changes: true, replaces: [], deleteBeforeReplace: true });
    expect(quota.stables).toContain("database");
    for (const [key, value] of [
      ["mode", "dedicated"],
      ["slug", "other"],
      ["rolePrefix", "x"],
    ] as const) {
      const d = await tenantDatabaseProvider.diff("id", olds, inputs({ [key]: value }));
      expect(d).toMatchObject({ changes: true, replaces: [key], deleteBeforeReplace: true });
    }
  });

  it("check reports invalid inputs by property", async () => {
    const result = await tenantDatabaseProvider.check(
      inputs(),
      inputs({ slug: "No!", adminUrl: "x" }),
    );
    expect(result.failures?.map((f) => f.property)).toEqual(["adminUrl", "spec"]);
    expect(result.failures?.[1]?.reason).toMatch(/slug/);
  });

  it("create → update (quota) → delete a schema tenant", async () => {
    const created = await tenantDatabaseProvider.create(inputs());
    const outs = created.outs as TenantDatabaseOutputs;
    expect(created.id).toBe("schema/orbit");
    expect(outs).toMatchObject({
      schema: "tenant_orbit",
      role: `${db.current.rolePrefix}_t_orbit`,
      database: db.current.name,
      searchPath: ["tenant_orbit"],
      version: 1,
    });
    expect(outs.password).toMatch(/.{32}/);
    expect((await roleSettings(outs.role))?.limit).toBe(2);
    expect((await roleSettings(outs.role))?.config).toContain("statement_timeout=500ms");
    const client = new pg.Client(connectionSettingsFor(outs, { password: outs.password }));
    await client.connect();
    await client.end();

    const updated = await tenantDatabaseProvider.update(
      created.id,
      outs,
      inputs({ quotas: { dbConnections: 4, statementTimeoutMs: 900 } }),
    );
    const after = updated.outs as TenantDatabaseOutputs;
    expect(after.password).toBe(outs.password);
    expect(after.tenantId).toBe(outs.tenantId);
    expect((await roleSettings(outs.role))?.limit).toBe(4);
    expect((await roleSettings(outs.role))?.config).toContain("statement_timeout=900ms");

    await tenantDatabaseProvider.delete(created.id, after);
    expect(await roleSettings(outs.role)).toBeUndefined();
    await withAdmin(db.current, async (c) => {
      const { rows } = await c.query("SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_orbit'");
      expect(rows).toEqual([]);
    });
  });

  it("read (refresh) reports quotas and privileges changed out of band; update restores them", async () => {
    const created = await tenantDatabaseProvider.create(inputs({ slug: "drift" }));
    const outs = created.outs as TenantDatabaseOutputs;
    expect(outs.access).toEqual({ connect: true, schemaUsage: true });
    // Nothing changed: the read state equals the recorded one.
    expect((await tenantDatabaseProvider.read(created.id, outs)).props).toEqual(outs);

    await withAdmin(db.current, async (c) => {
      await c.query(`REVOKE USAGE ON SCHEMA tenant_drift FROM ${outs.role}`);
      await c.query(`ALTER ROLE ${outs.role} CONNECTION LIMIT 7`);
      await c.query(`ALTER ROLE ${outs.role} SET statement_timeout = '2s'`);
    });
    const read = await tenantDatabaseProvider.read(created.id, outs);
    expect(read.id).toBe(created.id);
    expect(read.props).toEqual({
      ...outs,
      quotas: { dbConnections: 7, statementTimeoutMs: 2000 },
      access: { connect: true, schemaUsage: false },
    });
    const refreshed = read.props as TenantDatabaseOutputs;
    expect(
      await tenantDatabaseProvider.diff(
        created.id,
        { ...refreshed, quotas: outs.quotas },
        inputs({ slug: "drift" }),
      ),
    ).toMatchObject({ changes: true, replaces: [] });

    const repaired = await tenantDatabaseProvider.update(
      created.id,
      refreshed,
      inputs({ slug: "drift" }),
    );
    const repairedOuts = repaired.outs as TenantDatabaseOutputs;
    expect((await tenantDatabaseProvider.read(created.id, repairedOuts)).props).toEqual(
      repairedOuts,
    );
    expect(repairedOuts.access).toEqual({ connect: true, schemaUsage: true });
    expect((await roleSettings(outs.role))?.limit).toBe(2);
    await tenantDatabaseProvider.delete(created.id, repairedOuts);
  });

  it("read of a dedicated tenant reports USAGE revoked inside its own database; update grants it again", async () => {
    const created = await tenantDatabaseProvider.create(
      inputs({ slug: "silo-drift", mode: "dedicated" }),
    );
    const outs = created.outs as TenantDatabaseOutputs;
    expect(outs.access).toEqual({ connect: true, schemaUsage: true });
    expect((await tenantDatabaseProvider.read(created.id, outs)).props).toEqual(outs);

    // The privilege lives in the tenant's own database: revoked there, not in the shared one.
    await inDatabase(outs.database, `REVOKE USAGE ON SCHEMA "${outs.schema}" FROM "${outs.role}"`);
    const read = (await tenantDatabaseProvider.read(created.id, outs))
      .props as TenantDatabaseOutputs;
    expect(read).toEqual({ ...outs, access: { connect: true, schemaUsage: false } });
    expect(
      await tenantDatabaseProvider.diff(
        created.id,
        read,
        inputs({ slug: "silo-drift", mode: "dedicated" }),
      ),
    ).toMatchObject({ changes: true, replaces: [] });

    const repaired = (
      await tenantDatabaseProvider.update(
        created.id,
        read,
        inputs({ slug: "silo-drift", mode: "dedicated" }),
      )
    ).outs as TenantDatabaseOutputs;
    expect((await tenantDatabaseProvider.read(created.id, repaired)).props).toEqual(repaired);
    await canConnectAndRead(repaired);
    await tenantDatabaseProvider.delete(created.id, repaired);
  }, 60_000);

  it.each(["schema", "dedicated"] as const)(
    "read of a %s tenant whose role was dropped reports null quotas and no access; update creates the role again",
    async (mode) => {
      const slug = `gone-${mode}`;
      const created = await tenantDatabaseProvider.create(inputs({ slug, mode }));
      const outs = created.outs as TenantDatabaseOutputs;
      // What an operator has to do to drop it: its privileges first, in every database.
      const databases = [...new Set([db.current.name, outs.database])];
      for (const database of databases) await inDatabase(database, `DROP OWNED BY "${outs.role}"`);
      await inDatabase(db.current.name, `DROP ROLE "${outs.role}"`);

      const read = (await tenantDatabaseProvider.read(created.id, outs))
        .props as TenantDatabaseOutputs;
      expect(read).toEqual({
        ...outs,
        quotas: { dbConnections: null, statementTimeoutMs: null },
        access: { connect: false, schemaUsage: false },
      });
      expect(
        await tenantDatabaseProvider.diff(created.id, read, inputs({ slug, mode })),
      ).toMatchObject({
        changes: true,
        replaces: [],
      });

      const repaired = (
        await tenantDatabaseProvider.update(created.id, read, inputs({ slug, mode }))
      ).outs as TenantDatabaseOutputs;
      expect(repaired.password).toBe(outs.password); // the applications' password still works
      expect((await tenantDatabaseProvider.read(created.id, repaired)).props).toEqual(repaired);
      expect(repaired.quotas).toEqual(outs.quotas);
      await canConnectAndRead(repaired);
      await tenantDatabaseProvider.delete(created.id, repaired);
    },
    60_000,
  );

  it("works from the serialised closure in a separate Node process", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenancy-provider-"));
    try {
      const { stdout: text } = await run(
        process.execPath,
        ["--import", "tsx", "test/db/scripts/serializeProvider.ts"],
        { cwd: process.cwd() },
      );
      expect(text).not.toMatch(/require\(["']pg["']\)|__vite|@pulumi\/pulumi/);
      const file = join(dir, "provider.js");
      await writeFile(file, text);
      const requireFromString = createRequire(
        createRequire(import.meta.url).resolve("@pulumi/pulumi"),
      ).resolve("require-from-string");
      const host = `
        const load = require(${JSON.stringify(requireFromString)});
        const provider = load(require("fs").readFileSync(${JSON.stringify(file)}, "utf8")).handler();
        const [method, ...args] = JSON.parse(process.argv[1]);
        provider[method](...args).then(
          (r) => process.stdout.write(JSON.stringify(r ?? null)),
          (e) => { process.stderr.write(String(e && e.message)); process.exit(1); });`;
      const call = async (method: string, ...args: unknown[]) => {
        const { stdout } = await run(
          process.execPath,
          ["-e", host, JSON.stringify([method, ...args])],
          {
            cwd: dir,
          },
        );
        return JSON.parse(stdout) as {
          id?: string;
          outs?: TenantDatabaseOutputs;
          changes?: boolean;
        };
      };
      const pooled = inputs({ slug: "remote", mode: "pool" });
      const created = await call("create", pooled);
      expect(created.id).toBe("pool/remote");
      expect(created.outs).toMatchObject({ role: env.roles.app, schema: "app" });
      const diff = await call("diff", created.id, created.outs, { ...pooled, mode: "schema" });
      expect(diff).toMatchObject({ changes: true, replaces: ["mode"] });
      await call("delete", created.id, created.outs);
      await withAdmin(db.current, async (c) => {
        const { rows } = await c.query("SELECT slug FROM tenancy.tenants");
        expect(rows).toEqual([]);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
