/**
 * The opt-in signed tenant context, attacked as an SQL injection in a pooled application
 * would: the attacker runs any SQL as the application role, inside a tenant's transaction or
 * its own, and knows other tenants' ids. Real PostgreSQL, real roles.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditDatabase } from "../../db/audit.ts";
import { bootstrapDatabase } from "../../db/bootstrap.ts";
import { listContextKeyIds, putContextKey, removeContextKey } from "../../db/contextKeys.ts";
import {
  ContextSigningError,
  signTenantContext,
  signWithExpiry,
  type ContextSigningKey,
} from "../../db/contextSigning.ts";
import { protectDatabase } from "../../db/protect.ts";
import { purgeTenant } from "../../db/purge.ts";
import { withTenant } from "../../db/tenantContext.ts";
import { useTestDatabase } from "../support/postgres.ts";
import {
  type Bootstrapped,
  loginUrl,
  protectedApp,
  queryWithSettings,
  uuid,
  withAdmin,
} from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;
const tenantA = uuid();
const tenantB = uuid();
const key1: ContextSigningKey = { id: 1, key: randomBytes(32) };
const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  env = await protectedApp(
    db.current,
    `CREATE TABLE notes (tenant_id uuid NOT NULL DEFAULT tenancy.current_tenant_id(), id int NOT NULL,
                         body text NOT NULL, PRIMARY KEY (tenant_id, id));
     CREATE TABLE labels (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));`,
  );
  await withAdmin(db.current, async (c) => {
    await c.query(
      `INSERT INTO app.notes VALUES ($1, 1, 'a1'), ($1, 2, 'a2'), ($2, 1, 'b1');
       INSERT INTO app.labels VALUES ($1, 1), ($2, 1), ($2, 2)`
        .replace(/\$1/g, `'${tenantA}'`)
        .replace(/\$2/g, `'${tenantB}'`),
    );
    const result = await bootstrapDatabase(c, {
      rolePrefix: db.current.rolePrefix,
      signedContext: true,
      contextKeys: [key1],
    });
    expect(result.signedContext).toBe(true);
  });
});
afterAll(() => env.close());

/** Runs `sql` as the application role in one transaction after setting raw GUC values. */
async function asApp(settings: Record<string, string>, sql: string): Promise<unknown[]> {
  return queryWithSettings(env.appPool, settings, sql);
}

const signed = (tenant: string, sig: string) => ({
  "app.tenant_id": tenant,
  "app.tenant_sig": sig,
});

async function notesOf(settings: Record<string, string>): Promise<string[]> {
  const rows = await asApp(settings, "SELECT body FROM app.notes ORDER BY body");
  return rows.map((r) => (r as { body: string }).body);
}

describe("signed tenant context", () => {
  it("withTenant with the signing key shows the tenant its own rows, uuid and text columns", async () => {
    const notes = await withTenant(
      env.appPool,
      tenantA,
      async (c) => (await c.query<{ body: string }>("SELECT body FROM notes ORDER BY 1")).rows,
      { signingKey: key1 },
    );
    expect(notes).toEqual([{ body: "a1" }, { body: "a2" }]);
    const labels = await withTenant(
      env.appPool,
      tenantB,
      async (c) => (await c.query<{ id: number }>("SELECT id FROM labels ORDER BY 1")).rows,
      { signingKey: key1 },
    );
    expect(labels).toEqual([{ id: 1 }, { id: 2 }]);
    // A valid signature made outside withTenant works too (the raw path the attacks below use).
    expect(await notesOf(signed(tenantB, signTenantContext(tenantB, key1)))).toEqual(["b1"]);
  });

  it("writes need the signature; tenant_id defaults to the context", async () => {
    await withTenant(
      env.appPool,
      tenantA,
      (c) => c.query("INSERT INTO notes (id, body) VALUES (3, 'a3')"),
      { signingKey: key1 },
    );
    await expect(
      withTenant(env.appPool, tenantA, (c) =>
        c.query("INSERT INTO notes (id, body) VALUES (4, 'unsigned')"),
      ),
    ).rejects.toThrow(/row-level security/);
    await withTenant(env.appPool, tenantA, (c) => c.query("DELETE FROM notes WHERE id = 3"), {
      signingKey: key1,
    });
  });

  it("raw set_config('app.tenant_id', <other uuid>) without a signature: no rows, writes refused", async () => {
    expect(await notesOf({ "app.tenant_id": tenantB })).toEqual([]);
    expect(await asApp({ "app.tenant_id": tenantB }, "SELECT * FROM app.labels")).toEqual([]);
    // Also the plain withTenant: the database no longer takes an unsigned id.
    const plain = await withTenant(env.appPool, tenantB, async (c) => {
      return (await c.query<Record<string, unknown>>("SELECT * FROM notes")).rows;
    });
    expect(plain).toEqual([]);
    await expect(
      asApp({ "app.tenant_id": tenantB }, `INSERT INTO app.notes VALUES ('${tenantB}', 9, 'x')`),
    ).rejects.toThrow(/row-level security/);
    expect(await asApp({ "app.tenant_id": tenantB }, "DELETE FROM app.notes RETURNING *")).toEqual(
      [],
    );
  });

  it.each([
    ["random hex", () => `v1.1.${nowSeconds() + 60}.${randomBytes(32).toString("hex")}`],
    [
      "another key under the same id",
      () => signTenantContext(tenantB, { id: 1, key: randomBytes(32) }),
    ],
    ["an unknown key id", () => signTenantContext(tenantB, { id: 7, key: key1.key })],
    ["upper-case hex of a valid one", () => signTenantContext(tenantB, key1).toUpperCase()],
    ["a valid one with a changed expiry", () => bumpExpiry(signTenantContext(tenantB, key1))],
    ["malformed", () => "v1.1.x.' OR 1=1 --"],
    ["empty", () => ""],
  ])("a forged signature is refused: %s", async (_label, forge) => {
    expect(await notesOf(signed(tenantB, forge()))).toEqual([]);
    await expect(
      asApp(signed(tenantB, forge()), `INSERT INTO app.notes VALUES ('${tenantB}', 9, 'x')`),
    ).rejects.toThrow(/row-level security/);
  });

  it("a tenant's valid signature cannot be reused for another tenant id", async () => {
    // Inside tenant A's own transaction: the injected SQL switches the id, keeps A's signature.
    const stolen = await withTenant(
      env.appPool,
      tenantA,
      async (c) => {
        await c.query("SELECT set_config('app.tenant_id', $1, true)", [tenantB]);
        return (await c.query<Record<string, unknown>>("SELECT * FROM notes")).rows;
      },
      { signingKey: key1 },
    );
    expect(stolen).toEqual([]);
    // The signature read back from A's transaction, replayed with B's id (and B's id in
    // another spelling) in a fresh transaction.
    const sigA = await withTenant(
      env.appPool,
      tenantA,
      async (c) =>
        (await c.query<{ s: string }>("SELECT current_setting('app.tenant_sig') AS s")).rows[0]!.s,
      { signingKey: key1 },
    );
    expect(await notesOf(signed(tenantA, sigA))).toEqual(["a1", "a2"]); // the replay target works...
    expect(await notesOf(signed(tenantB, sigA))).toEqual([]); // ...for A only
    expect(await notesOf(signed(tenantA.toUpperCase(), sigA))).toEqual([]);
    // The text policy compares the signed text exactly.
    expect(await asApp(signed(tenantB, sigA), "SELECT * FROM app.labels")).toEqual([]);
  });

  it("an expired signature is refused; the expiry is checked at the transaction's start", async () => {
    const expired = signWithExpiry(tenantA, key1, nowSeconds() - 5);
    expect(await notesOf(signed(tenantA, expired))).toEqual([]);
    const valid = signWithExpiry(tenantA, key1, nowSeconds() + 5);
    expect(await notesOf(signed(tenantA, valid))).toEqual(["a1", "a2"]);
  });

  it("withTenant refuses a malformed signing key before connecting", async () => {
    const bad = [
      { id: 0, key: key1.key },
      { id: 1, key: randomBytes(16) },
      { id: 1.5, key: key1.key },
      { id: 1, key: "secret" },
    ] as unknown as ContextSigningKey[];
    for (const signingKey of bad) {
      await expect(withTenant(env.appPool, tenantA, async () => 1, { signingKey })).rejects.toThrow(
        ContextSigningError,
      );
    }
    await expect(
      withTenant(env.appPool, tenantA, async () => 1, {
        signingKey: key1,
        signatureTtlSeconds: 0,
      }),
    ).rejects.toThrow(ContextSigningError);
  });

  it("withTenant clears the signature with the context: nothing is left on the connection", async () => {
    const client = new pg.Client({
      connectionString: loginUrl(db.current.url, env.roles.app, env.appPassword),
    });
    await client.connect();
    const pool = { connect: async () => Object.assign(client, { release: () => undefined }) };
    try {
      await withTenant(
        pool as never,
        tenantA,
        (c) =>
          c.query("SELECT set_config('app.tenant_sig', current_setting('app.tenant_sig'), false)"),
        { signingKey: key1 },
      );
      const { rows } = await client.query<{ id: string; sig: string }>(
        "SELECT current_setting('app.tenant_id', true) AS id, current_setting('app.tenant_sig', true) AS sig",
      );
      expect(rows[0]).toEqual({ id: "", sig: "" });
    } finally {
      await client.end();
    }
  });

  it("the application role cannot read the keys or call anything that yields them", async () => {
    await withAdmin(db.current, (c) => c.query("ANALYZE tenancy.context_keys"));
    await expect(asApp({}, "SELECT * FROM tenancy.context_keys")).rejects.toThrow(
      /permission denied for table context_keys/,
    );
    await expect(asApp({}, "COPY tenancy.context_keys TO STDOUT")).rejects.toThrow(
      /permission denied/,
    );
    await expect(asApp({}, "SELECT tenancy.sign_tenant_context('x', 60)")).rejects.toThrow(
      /permission denied for function sign_tenant_context/,
    );
    // Not through the planner's statistics either (pg_stats hides columns one cannot read).
    expect(await asApp({}, "SELECT * FROM pg_stats WHERE tablename = 'context_keys'")).toEqual([]);
    // Not by replacing a verifier with one that returns the key.
    await expect(
      asApp(
        {},
        `CREATE OR REPLACE FUNCTION tenancy.signed_tenant_text() RETURNS text LANGUAGE sql
           AS 'SELECT encode(inner_pad, ''hex'') FROM tenancy.context_keys LIMIT 1'`,
      ),
    ).rejects.toThrow(/permission denied|must be owner/);
    // The verifiers hand out only the verified tenant id, and no function source holds a key.
    const sigA = signTenantContext(tenantA, key1);
    expect(
      await asApp(
        signed(tenantA, sigA),
        "SELECT tenancy.signed_tenant_id()::text AS id, tenancy.signed_tenant_text() AS t",
      ),
    ).toEqual([{ id: tenantA, t: tenantA }]);
    const sources = await asApp(
      {},
      "SELECT string_agg(prosrc, ' ') AS s FROM pg_proc WHERE pronamespace = 'tenancy'::regnamespace",
    );
    const text = (sources[0] as { s: string }).s;
    expect(text).toContain("context_keys");
    expect(text).not.toContain(Buffer.from(key1.key).toString("hex"));
    // The key table is the owner's alone: no grant to anyone.
    const acl = await withAdmin(db.current, async (c) => {
      const { rows } = await c.query<{ owner: string; acl: string | null }>(
        `SELECT pg_get_userbyid(relowner) AS owner, relacl::text AS acl FROM pg_class
          WHERE oid = 'tenancy.context_keys'::regclass`,
      );
      return rows[0];
    });
    expect(acl?.owner).toBe(env.roles.owner);
    expect(acl?.acl ?? "").not.toMatch(new RegExp(`(^|[{,])(${env.roles.app})?=`));
  });

  it("the database's HMAC is Node's: the owner's signature verifies and matches byte for byte", async () => {
    const sig = await withAdmin(db.current, async (c) => {
      await c.query("BEGIN");
      await c.query(`SET LOCAL ROLE "${env.roles.owner}"`);
      const { rows } = await c.query<{ s: string }>(
        "SELECT tenancy.sign_tenant_context($1, 60) AS s",
        [tenantA],
      );
      await c.query("COMMIT");
      return rows[0]!.s;
    });
    const expires = Number(sig.split(".")[2]);
    expect(sig).toBe(signWithExpiry(tenantA, key1, expires));
    expect(await notesOf(signed(tenantA, sig))).toEqual(["a1", "a2"]);
  });

  it("keys rotate: a new key signs, a removed key's signatures are refused", async () => {
    const key2: ContextSigningKey = { id: 2, key: randomBytes(48) };
    await withAdmin(db.current, (c) =>
      putContextKey(c, key2, { rolePrefix: db.current.rolePrefix }),
    );
    const byOld = signTenantContext(tenantA, key1);
    const byNew = signTenantContext(tenantA, key2);
    expect(await notesOf(signed(tenantA, byNew))).toEqual(["a1", "a2"]);
    expect(await notesOf(signed(tenantA, byOld))).toEqual(["a1", "a2"]);
    await withAdmin(db.current, (c) =>
      removeContextKey(c, 1, { rolePrefix: db.current.rolePrefix }),
    );
    expect(await notesOf(signed(tenantA, byOld))).toEqual([]);
    expect(
      await withAdmin(db.current, (c) =>
        listContextKeyIds(c, { rolePrefix: db.current.rolePrefix }),
      ),
    ).toEqual([2]);
    await withAdmin(db.current, (c) =>
      putContextKey(c, key1, { rolePrefix: db.current.rolePrefix }),
    );
  });

  it("a bridge tenant's own schema keeps the plain policy; shared tables carry the signed one", async () => {
    await withAdmin(db.current, async (c) => {
      await c.query(`CREATE SCHEMA tenant_acme AUTHORIZATION "${env.roles.owner}"`);
      await c.query(`SET ROLE "${env.roles.owner}"`);
      await c.query("CREATE TABLE tenant_acme.things (tenant_id uuid NOT NULL PRIMARY KEY)");
      await c.query("RESET ROLE");
      await protectDatabase(c);
      const { rows } = await c.query<{ t: string; q: string }>(
        `SELECT schemaname || '.' || tablename AS t, qual AS q FROM pg_policies
          WHERE policyname = 'tenant_isolation' AND schemaname <> 'tenancy' ORDER BY 1`,
      );
      expect(rows).toEqual([
        {
          t: "app.labels",
          q: "(tenant_id = ( SELECT tenancy.signed_tenant_text() AS signed_tenant_text))",
        },
        {
          t: "app.notes",
          q: "(tenant_id = ( SELECT tenancy.signed_tenant_id() AS signed_tenant_id))",
        },
        {
          t: "tenant_acme.things",
          q: "(tenant_id = ( SELECT tenancy.current_tenant_id() AS current_tenant_id))",
        },
      ]);
      expect((await protectDatabase(c)).changed).toBe(0);
      await c.query("DROP SCHEMA tenant_acme CASCADE");
    });
  });

  it("audit: clean in signed mode; reports a readable key table, an unsigned policy, a changed verifier", async () => {
    const audit = () =>
      withAdmin(db.current, (c) => auditDatabase(c, { rolePrefix: db.current.rolePrefix }));
    expect((await audit()).findings).toEqual([]);
    const app = `"${env.roles.app}"`;
    const cases = [
      {
        defect: `GRANT SELECT ON tenancy.context_keys TO ${app}`,
        undo: `REVOKE ALL ON tenancy.context_keys FROM ${app}`,
        code: "context-keys-readable",
      },
      {
        defect: "GRANT SELECT ON tenancy.context_keys TO PUBLIC",
        undo: "REVOKE ALL ON tenancy.context_keys FROM PUBLIC",
        code: "context-keys-readable",
      },
      {
        defect: `ALTER POLICY tenant_isolation ON app.notes
                   USING (tenant_id = (SELECT tenancy.current_tenant_id()))
                   WITH CHECK (tenant_id = (SELECT tenancy.current_tenant_id()))`,
        undo: null,
        code: "policy-context-unsigned",
      },
      {
        defect: `CREATE OR REPLACE FUNCTION tenancy.signed_tenant_text() RETURNS text
                   LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
                   AS 'SELECT current_setting(''app.tenant_id'', true)'`,
        undo: null,
        code: "security-definer-executable",
      },
    ] as const;
    for (const { defect, undo, code } of cases) {
      await withAdmin(db.current, (c) => c.query(defect));
      const report = await audit();
      expect(report.findings.map((f) => f.code)).toContain(code);
      if (undo) await withAdmin(db.current, (c) => c.query(undo));
      else
        await withAdmin(db.current, (c) =>
          bootstrapDatabase(c, { rolePrefix: db.current.rolePrefix, signedContext: true }),
        );
      expect((await audit()).findings).toEqual([]);
    }
  });

  it("purge works in signed mode (the owner signs with the database's key)", async () => {
    const leaving = uuid();
    await withTenant(
      env.appPool,
      leaving,
      (c) => c.query("INSERT INTO notes (id, body) VALUES (1, 'bye'), (2, 'bye')"),
      { signingKey: key1 },
    );
    const report = await purgeTenant({
      adminUrl: db.current.url,
      slug: "leaving",
      tenantId: leaving,
      rolePrefix: db.current.rolePrefix,
    });
    expect(report.verified).toBe(true);
    expect(report.tables.find((t) => t.table === "app.notes")).toEqual({
      table: "app.notes",
      deleted: 2,
      remaining: 0,
    });
    expect(await notesOf(signed(tenantA, signTenantContext(tenantA, key1)))).toEqual(["a1", "a2"]);
  });

  it("turning signed mode off restores the plain policies and drops the keys", async () => {
    await withAdmin(db.current, (c) =>
      bootstrapDatabase(c, { rolePrefix: db.current.rolePrefix, signedContext: false }),
    );
    expect(await notesOf({ "app.tenant_id": tenantB })).toEqual(["b1"]);
    const left = await withAdmin(db.current, async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_proc WHERE pronamespace = 'tenancy'::regnamespace
           AND proname IN ('signed_tenant_id', 'signed_tenant_text', 'sign_tenant_context')`,
      );
      return {
        functions: rows[0]?.n,
        keys: await c.query("SELECT to_regclass('tenancy.context_keys') AS t"),
      };
    });
    expect(left.functions).toBe(0);
    expect(left.keys.rows).toEqual([{ t: null }]);
    await expect(
      withAdmin(db.current, (c) => putContextKey(c, key1, { rolePrefix: db.current.rolePrefix })),
    ).rejects.toThrow(/does not run the signed tenant context/);
    expect(
      (await withAdmin(db.current, (c) => auditDatabase(c, { rolePrefix: db.current.rolePrefix })))
        .findings,
    ).toEqual([]);
  });
});

/** The same signature with its expiry pushed a day later (the MAC no longer matches). */
function bumpExpiry(sig: string): string {
  const [version, id, expires, mac] = sig.split(".");
  return `${version}.${id}.${Number(expires) + 86_400}.${mac}`;
}
