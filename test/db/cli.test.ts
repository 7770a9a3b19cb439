import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { listContextKeyIds } from "../../db/contextKeys.ts";
import { runDbCommand } from "../../db/cli.ts";
import { useTestDatabase } from "../support/postgres.ts";
import { withAdmin } from "./fixtures.ts";

const db = useTestDatabase();

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runDbCommand(argv, {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
  });
  return { code, out, err };
}

const base = () => ["--database-url", db.current.url, "--role-prefix", db.current.rolePrefix];

describe("tenancy db CLI", () => {
  it("bootstrap --json prints the managed role names; a re-run creates nothing", async () => {
    const first = await run("bootstrap", ...base(), "--json");
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    const parsed = JSON.parse(first.out) as {
      roles: Record<string, string>;
      createdRoles: string[];
    };
    const p = db.current.rolePrefix;
    expect(parsed.roles).toEqual({ owner: `${p}_owner`, app: `${p}_app`, audit: `${p}_audit` });
    expect(parsed.createdRoles).toHaveLength(3);
    const again = await run("bootstrap", ...base());
    expect(again.code).toBe(0);
    expect(again.out).toContain("created:    nothing (already bootstrapped)");
  });

  it("audit exits 1 with findings naming objects and fixes; protect fixes them; audit exits 0", async () => {
    await withAdmin(db.current, (c) =>
      c.query(
        `CREATE TABLE app.orders (tenant_id uuid NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
         ALTER TABLE app.orders OWNER TO "${db.current.rolePrefix}_owner"`,
      ),
    );
    const dirty = await run("audit", ...base());
    expect(dirty.code).toBe(1);
    expect(dirty.out).toContain("rls-disabled: table app.orders:");
    expect(dirty.out).toContain("fix: run `tenancy db protect`");
    const json = await run("audit", ...base(), "--json");
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { clean: boolean; findings: { code: string }[] };
    expect(report.clean).toBe(false);
    expect(report.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(["rls-disabled", "rls-not-forced", "policy-missing"]),
    );

    const protect = await run("protect", ...base(), "--schema", "app");
    expect(protect.code).toBe(0);
    expect(protect.out).toContain("app.orders: enabled-rls, forced-rls, created-policy");
    const protectJson = await run("protect", ...base(), "--json");
    expect(JSON.parse(protectJson.out)).toMatchObject({ changed: 0 });

    const clean = await run("audit", ...base());
    expect(clean.code).toBe(0);
    expect(clean.out).toMatch(/^audit clean: 1 tenant tables/);
  });

  it("migrate prints a summary and is a no-op the second time", async () => {
    const first = await run("migrate", ...base(), "--json");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ schemas: 1, applied: 1, failed: 0 });
    const second = await run("migrate", ...base());
    expect(second.out).toMatch(/1 schemas: 0 migrated, 1 up to date, 0 failed/);
  });

  it("purge reports a verified offboarding", async () => {
    const result = await run("purge", ...base(), "--tenant", "nobody-here", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ slug: "nobody-here", verified: true });
  });

  it("bootstrap --signed-context installs the key from the environment; --plain-context undoes it", async () => {
    const key = randomBytes(32);
    process.env.TENANCY_CONTEXT_KEY = key.toString("hex");
    process.env.TENANCY_CONTEXT_KEY_ID = "3";
    try {
      const both = await run("bootstrap", ...base(), "--signed-context", "--plain-context");
      expect(both.code).toBe(2);
      expect(both.err).toMatch(/exclude each other/);
      const signed = await run("bootstrap", ...base(), "--signed-context");
      expect(signed.err).toBe("");
      expect(signed.out).toContain("context:    signed (key 3 set)");
      const ids = await withAdmin(db.current, (c) =>
        listContextKeyIds(c, { rolePrefix: db.current.rolePrefix }),
      );
      expect(ids).toEqual([3]);
      const audit = await run("audit", ...base());
      expect(audit.out).toContain("audit clean");
      process.env.TENANCY_CONTEXT_KEY = "zz";
      const bad = await run("bootstrap", ...base());
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/TENANCY_CONTEXT_KEY must be hex/);
      process.env.TENANCY_CONTEXT_KEY = randomBytes(8).toString("hex");
      const short = await run("bootstrap", ...base());
      expect(short.code).toBe(2);
      expect(short.err).toMatch(/32\.\.64 bytes, got 8/);
      delete process.env.TENANCY_CONTEXT_KEY;
      const plain = await run("bootstrap", ...base(), "--plain-context");
      expect(plain.out).toContain("context:    plain");
    } finally {
      delete process.env.TENANCY_CONTEXT_KEY;
      delete process.env.TENANCY_CONTEXT_KEY_ID;
    }
  });

  it.each([
    [["audit"], /no database: pass --database-url URL or set DATABASE_URL/, 2],
    [
      ["frobnicate", "--database-url", "postgres://x@127.0.0.1:1/db"],
      /unknown command "frobnicate"/,
      2,
    ],
    [["audit", "--bogus"], /Unknown option '--bogus'/, 2],
    [["purge", "--database-url", "postgres://x@127.0.0.1:1/db"], /purge needs --tenant SLUG/, 2],
    [
      ["audit", "--database-url", "postgres://u:secret@127.0.0.1:1/db"],
      /cannot connect to postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/,
      1,
    ],
    [
      ["purge", "--database-url", "postgres://u:secret@127.0.0.1:1/db", "--tenant", "Bad!"],
      /invalid tenant slug "Bad!"/,
      1,
    ],
  ] as const)("%j fails with one clear line", async (argv, message, code) => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      const result = await run(...argv);
      expect(result.code).toBe(code);
      expect(result.err.split("\n")[0]).toMatch(message);
      expect(result.err).not.toMatch(/\n\s+at /);
      expect(result.err).not.toContain("secret");
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });
});
