import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditDatabase, type FindingCode } from "../../db/audit.ts";
import { protectDatabase } from "../../db/protect.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { bootstrapped, withAdmin, type Bootstrapped } from "./fixtures.ts";

const db = useTestDatabase();
let env: Bootstrapped;

beforeAll(async () => {
  env = await bootstrapped(db.current);
});
afterAll(() => env.close());

const CLEAN_TABLES = `
  CREATE TABLE parent (tenant_id uuid NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
  CREATE TABLE child (tenant_id uuid NOT NULL, id int NOT NULL, parent_id int NOT NULL,
                      PRIMARY KEY (tenant_id, id),
                      FOREIGN KEY (tenant_id, parent_id) REFERENCES parent (tenant_id, id));`;

interface Case {
  readonly code: FindingCode;
  /** SQL run as superuser in the case's schema after protect (search_path = the schema). */
  readonly defect: string;
  /** Text the finding's object must contain. */
  readonly object: string;
  /** Undo for role-level defects. */
  readonly undo?: string;
}

const cases: readonly Case[] = [
  {
    code: "rls-disabled",
    defect: "ALTER TABLE parent DISABLE ROW LEVEL SECURITY",
    object: "parent",
  },
  {
    code: "rls-not-forced",
    defect: "ALTER TABLE parent NO FORCE ROW LEVEL SECURITY",
    object: "parent",
  },
  { code: "policy-missing", defect: "DROP POLICY tenant_isolation ON parent", object: "parent" },
  {
    code: "policy-missing-with-check",
    defect: `DROP POLICY tenant_isolation ON parent;
             CREATE POLICY p ON parent USING (tenant_id = (SELECT tenancy.current_tenant_id()))`,
    object: "parent",
  },
  {
    code: "policy-not-tenant-scoped",
    defect: "CREATE POLICY open_read ON parent FOR SELECT USING (true)",
    object: "open_read",
  },
  {
    code: "tenant-index-missing",
    defect: `CREATE TABLE loose (tenant_id uuid NOT NULL, id int NOT NULL);
             ALTER TABLE loose ENABLE ROW LEVEL SECURITY; ALTER TABLE loose FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON loose USING (tenant_id = (SELECT tenancy.current_tenant_id()))
               WITH CHECK (tenant_id = (SELECT tenancy.current_tenant_id()));
             CREATE INDEX ON loose (id, tenant_id)`,
    object: "loose",
  },
  {
    code: "tenant-id-nullable",
    defect: "CREATE TABLE optional_owner (tenant_id uuid, note text)",
    object: "optional_owner",
  },
  {
    code: "tenant-id-type-unsupported",
    defect: "CREATE TABLE numeric_tenant (tenant_id bigint NOT NULL PRIMARY KEY)",
    object: "numeric_tenant",
  },
  {
    code: "unique-without-tenant-id",
    defect: "CREATE UNIQUE INDEX child_id_key ON child (id)",
    object: "child_id_key",
  },
  {
    code: "unique-without-tenant-id",
    defect: `CREATE TABLE plain_pk (tenant_id uuid NOT NULL, id int PRIMARY KEY)`,
    object: "plain_pk_pkey",
  },
  {
    code: "foreign-key-without-tenant-id",
    defect: `CREATE UNIQUE INDEX parent_id_only ON parent (id);
             ALTER TABLE child ADD CONSTRAINT child_parent_loose FOREIGN KEY (parent_id) REFERENCES parent (id)`,
    object: "child_parent_loose",
  },
  {
    code: "view-not-security-invoker",
    defect: `CREATE VIEW everything AS SELECT * FROM parent; GRANT USAGE ON SCHEMA {schema} TO {app};
             GRANT SELECT ON everything TO {app}`,
    object: "everything",
  },
  {
    code: "materialized-view-readable",
    defect: `CREATE MATERIALIZED VIEW snapshot AS SELECT * FROM parent; GRANT USAGE ON SCHEMA {schema} TO {app};
             GRANT SELECT ON snapshot TO {app}`,
    object: "snapshot",
  },
  {
    code: "security-definer-executable",
    defect: `CREATE FUNCTION peek() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM parent';
             GRANT USAGE ON SCHEMA {schema} TO {app}`,
    object: "peek()",
  },
  {
    code: "app-role-superuser",
    defect: "ALTER ROLE {app} SUPERUSER",
    undo: "ALTER ROLE {app} NOSUPERUSER",
    object: "{app}",
  },
  {
    code: "app-role-bypassrls",
    defect: "ALTER ROLE {app} BYPASSRLS",
    undo: "ALTER ROLE {app} NOBYPASSRLS",
    object: "{app}",
  },
  {
    code: "app-role-owns-objects",
    defect: "ALTER TABLE parent OWNER TO {app}",
    object: "{app}",
  },
  {
    code: "app-role-can-assume-role",
    defect: "GRANT {owner} TO {app}",
    undo: "REVOKE {owner} FROM {app}",
    object: "{app}",
  },
];

describe("audit", () => {
  it("is clean after protect, and protect is idempotent", async () => {
    await withAdmin(db.current, async (c) => {
      await c.query(
        `SET ROLE "${env.roles.owner}"; SET search_path = app; ${CLEAN_TABLES}; RESET ROLE`,
      );
      const first = await protectDatabase(c);
      expect(first.changed).toBe(2);
      expect(first.tables.map((t) => t.actions)).toEqual([
        ["enabled-rls", "forced-rls", "created-policy"],
        ["enabled-rls", "forced-rls", "created-policy"],
      ]);
      const second = await protectDatabase(c);
      expect(second.changed).toBe(0);
      const report = await auditDatabase(c, { rolePrefix: db.current.rolePrefix });
      expect(report.findings).toEqual([]);
      expect(report.clean).toBe(true);
      expect(report.tables).toBe(2);
    });
  });

  it("flags tables before protect", async () => {
    await withAdmin(db.current, async (c) => {
      await c.query(`CREATE SCHEMA raw; CREATE TABLE raw.t (tenant_id uuid, id int)`);
      const report = await auditDatabase(c, {
        rolePrefix: db.current.rolePrefix,
        schemas: ["raw"],
      });
      expect(report.findings.map((f) => f.code).sort()).toEqual([
        "policy-missing",
        "rls-disabled",
        "rls-not-forced",
        "tenant-id-nullable",
        "tenant-index-missing",
      ]);
      for (const finding of report.findings) {
        expect(finding.object).toContain("raw.t");
        expect(finding.fix.length).toBeGreaterThan(5);
      }
      await c.query("DROP SCHEMA raw CASCADE");
    });
  });

  it.each(cases.map((c, i) => ({ ...c, i })))(
    "flags $code ($object)",
    async ({ code, defect, object, undo, i }) => {
      const schema = `case_${i}`;
      const fill = (sql: string) =>
        sql
          .replaceAll("{schema}", schema)
          .replaceAll("{app}", `"${env.roles.app}"`)
          .replaceAll("{owner}", `"${env.roles.owner}"`);
      await withAdmin(db.current, async (c) => {
        await c.query(`CREATE SCHEMA ${schema} AUTHORIZATION "${env.roles.owner}"`);
        await c.query(
          `SET ROLE "${env.roles.owner}"; SET search_path = ${schema}; ${CLEAN_TABLES}; RESET ROLE`,
        );
        await protectDatabase(c, { schemas: [schema] });
        const options = { rolePrefix: db.current.rolePrefix, schemas: [schema] };
        expect((await auditDatabase(c, options)).findings).toEqual([]);
        await c.query(`SET search_path = ${schema}; ${fill(defect)}; RESET search_path`);
        try {
          const report = await auditDatabase(c, options);
          expect(report.clean).toBe(false);
          const match = report.findings.find((f) => f.code === code);
          expect(match, JSON.stringify(report.findings)).toBeDefined();
          expect(match?.object).toContain(fill(object).replaceAll('"', ""));
        } finally {
          if (undo) await c.query(fill(undo));
          await c.query(`DROP SCHEMA ${schema} CASCADE`);
        }
      });
    },
  );
});
