import { mkdtemp, readFile, rm, writeFile, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogJsonSchemas } from "../../catalog/index.ts";
import { main } from "../../cli/main.ts";

async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe("tenancy CLI", () => {
  it("catalog validate exits 0 on the example catalog", async () => {
    const { code, stdout } = await run("catalog", "validate", "tenants");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^catalog tenants is valid: 7 tenants, 3 tiers/);
  });

  it("catalog validate exits 1 and prints every error on a broken catalog", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenancy-cli-"));
    try {
      await cp("tenants", dir, { recursive: true });
      await writeFile(join(dir, "bluebird.yaml"), "slug: bluebird\nname: Bluebird\ntier: fre\n");
      await writeFile(join(dir, "zeta.yaml"), "slug: Zeta\n");
      const { code, stderr, stdout } = await run("catalog", "validate", dir);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      const lines = stderr.trim().split("\n");
      expect(lines).toEqual(
        [
          `${join(dir, "bluebird.yaml")}:3:7: tier: unknown tier "fre" (did you mean "free"?); tiers are free, pro, enterprise`,
          `${join(dir, "zeta.yaml")}:1:7: slug: must be a DNS label (lowercase letters, digits and inner hyphens): character "Z" is not allowed`,
          `${join(dir, "zeta.yaml")}:1:1: name: is required`,
          `${join(dir, "zeta.yaml")}:1:1: tier: is required`,
          `4 errors in catalog ${dir}`,
        ].sort(byFileThenPosition),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("catalog validate on a missing directory is an error, not a stack trace", async () => {
    const { code, stderr } = await run("catalog", "validate", "no/such/dir");
    expect(code).toBe(1);
    expect(stderr).toContain("no/such/dir:1:1: (file): catalog directory does not exist");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("plan --json lists every example tenant with its resolved modes", async () => {
    const { code, stdout } = await run("plan", "--json");
    expect(code).toBe(0);
    const plan = JSON.parse(stdout) as {
      tenants: { slug: string; layers: Record<string, { mode: string }> }[];
    };
    expect(plan.tenants.map((t) => t.slug)).toEqual([
      "bluebird",
      "corvid-labs",
      "dunlin",
      "egret-health",
      "falcon-bank",
      "gannet-gov",
      "heron",
    ]);
    expect(plan.tenants.find((t) => t.slug === "egret-health")?.layers).toEqual({
      database: { mode: "dedicated", isolation: "silo", overridden: true },
      storage: { mode: "bucket", isolation: "bridge", overridden: false },
      compute: { mode: "namespace", isolation: "bridge", overridden: false },
      identity: { mode: "federated", isolation: "silo", overridden: true },
    });
  });

  it("plan --tenant filters, and refuses unknown tenants", async () => {
    const one = await run("plan", "--tenant", "dunlin");
    expect(one.code).toBe(0);
    expect(one.stdout.split("\n")[0]).toMatch(
      /^TENANT\s+TIER\s+DATABASE\s+STORAGE\s+COMPUTE\s+IDENTITY/,
    );
    expect(one.stdout.split("\n")[1]).toMatch(
      /^dunlin\s+pro\s+schema \(bridge\)\s+bucket \(bridge\)/,
    );
    expect(one.stdout).not.toContain("bluebird");
    const unknown = await run("plan", "--tenant", "nobody");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("unknown tenant: nobody\n");
  });

  it("usage errors exit 2 with the usage text", async () => {
    expect((await run("frobnicate")).code).toBe(2);
    expect((await run("plan", "--bogus")).stderr).toMatch(/^tenancy: Unknown option '--bogus'/);
    expect((await run("plan", "--target", "gcp")).code).toBe(2);
  });

  it("the JSON Schemas shipped under schemas/ are the generated ones", async () => {
    for (const [file, schema] of Object.entries(catalogJsonSchemas())) {
      const shipped = JSON.parse(await readFile(join("schemas", file), "utf8")) as unknown;
      expect(shipped, `schemas/${file} is stale: run npm run catalog:schema`).toEqual(schema);
    }
  });
});

function byFileThenPosition(a: string, b: string): number {
  if (a.match(/^\d+ errors/)) return 1;
  if (b.match(/^\d+ errors/)) return -1;
  const [fa, la, ca] = a.split(":");
  const [fb, lb, cb] = b.split(":");
  return (fa ?? "").localeCompare(fb ?? "") || Number(la) - Number(lb) || Number(ca) - Number(cb);
}
