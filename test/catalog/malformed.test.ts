import { describe, expect, it } from "vitest";
import { formatDiagnostic, validateCatalogFiles } from "../../catalog/index.ts";
import { catalogFiles, TIERS_YAML } from "./fixtures.ts";

function errorsOf(tenants: Record<string, string>, tiers?: string): string[] {
  const result = validateCatalogFiles(catalogFiles(tenants, tiers));
  expect(result.ok).toBe(false);
  return result.diagnostics.map(formatDiagnostic);
}

describe("malformed catalogs: every error names file:line:col and the field", () => {
  it.each([
    {
      case: "YAML syntax error",
      file: "acme.yaml",
      text: "slug: acme\nname: [unclosed\ntier: free\n",
      expected: [/^tenants\/acme\.yaml:3:\d+: \(file\): YAML syntax error: /],
    },
    {
      case: "empty file",
      file: "acme.yaml",
      text: "",
      expected: ["tenants/acme.yaml:1:1: (file): file is empty"],
    },
    {
      case: "comment-only file",
      file: "acme.yaml",
      text: "# nothing yet\n",
      expected: ["tenants/acme.yaml:1:1: (file): file is empty"],
    },
    {
      case: "a list instead of a mapping",
      file: "acme.yaml",
      text: "- slug: acme\n",
      expected: ["tenants/acme.yaml:1:1: (file): must be a mapping of fields"],
    },
    {
      case: "wrong types",
      file: "acme.yaml",
      text: "slug: acme\nname: Acme\ntier: free\nquotas:\n  dbConnections: many\n  cpu: 2\n",
      expected: [
        'tenants/acme.yaml:5:18: quotas.dbConnections: must be a number, got string "many"',
        "tenants/acme.yaml:6:8: quotas.cpu: must be a string, got number 2",
      ],
    },
    {
      case: "missing required fields",
      file: "acme.yaml",
      text: "slug: acme\n",
      expected: [
        "tenants/acme.yaml:1:1: name: is required",
        "tenants/acme.yaml:1:1: tier: is required",
      ],
    },
    {
      case: "unknown key with a close match",
      file: "acme.yaml",
      text: "slug: acme\nname: Acme\ntier: free\noverides:\n  database: pool\n",
      expected: [
        'tenants/acme.yaml:4:1: overides: unknown field "overides" (did you mean "overrides"?)',
      ],
    },
    {
      case: "unknown nested key",
      file: "acme.yaml",
      text: "slug: acme\nname: Acme\ntier: free\nquotas:\n  statementTimeout: 5\n",
      expected: [
        'tenants/acme.yaml:5:3: quotas.statementTimeout: unknown field "statementTimeout" (did you mean "statementTimeoutMs"?)',
      ],
    },
    {
      case: "unknown key without a close match",
      file: "acme.yaml",
      text: "slug: acme\nname: Acme\ntier: free\nbanana: 1\n",
      expected: ['tenants/acme.yaml:4:1: banana: unknown field "banana"'],
    },
    {
      case: "misspelt mode in an override",
      file: "acme.yaml",
      text: "slug: acme\nname: Acme\ntier: pro\noverrides:\n  database: dedicted\n",
      expected: [
        'tenants/acme.yaml:5:13: overrides.database: "dedicted" is not one of "pool", "schema", "dedicated" (did you mean "dedicated"?)',
      ],
    },
    {
      case: "federation with an unknown protocol",
      file: "acme.yaml",
      text: "slug: acme\nname: Acme\ntier: pro\nfederation:\n  protocol: ldap\n",
      expected: [
        'tenants/acme.yaml:5:13: federation.protocol: "ldap" is not one of "oidc", "saml"',
      ],
    },
    {
      case: "federation over plain http",
      file: "acme.yaml",
      text: "slug: acme\nname: Acme\ntier: pro\noverrides: {identity: federated}\nfederation:\n  protocol: saml\n  metadataUrl: http://idp.example/metadata\n",
      expected: ["tenants/acme.yaml:7:16: federation.metadataUrl: must be an https:// URL"],
    },
    {
      case: "duplicate key in one file",
      file: "acme.yaml",
      text: "slug: acme\nname: Acme\nname: Other\ntier: free\n",
      expected: [/^tenants\/acme\.yaml:3:1: \(file\): YAML syntax error: Map keys must be unique/],
    },
  ])("$case", ({ file, text, expected }) => {
    const errors = errorsOf({ [file]: text });
    expect(errors).toHaveLength(expected.length);
    expected.forEach((want, i) => {
      if (typeof want === "string") expect(errors[i]).toBe(want);
      else expect(errors[i]).toMatch(want);
    });
  });

  it.each([
    ["Acme", 'character "A" is not allowed'],
    ["acme_corp", 'character "_" is not allowed'],
    ["acme;drop", 'character ";" is not allowed'],
    ["acme'--", `character "'" is not allowed`],
    ["$(reboot)", 'character "$" is not allowed'],
    ["acme`id`", 'character "`" is not allowed'],
    ["9lives", "it must start with a letter"],
    ["acme-", "end with a letter or digit"],
    ["ac--me", "consecutive hyphens are not allowed"],
    ["q", "at least 2 characters (got 1)"],
    ["a".repeat(31), "at most 30 characters (got 31)"],
    ["admin", '"admin" is reserved'],
    ["postgres", '"postgres" is reserved'],
  ])("hostile or invalid slug %j is refused at its line", (slug, reason) => {
    const errors = errorsOf({ "x.yaml": `name: X\ntier: free\nslug: ${JSON.stringify(slug)}\n` });
    expect(errors[0]).toMatch(/^tenants\/x\.yaml:3:7: slug: /);
    expect(errors[0]).toContain(reason);
  });

  it.each([
    ["cpu", "2 cores", /quotas\.cpu: must be a Kubernetes CPU quantity/],
    ["cpu", "1e3", /quotas\.cpu: must be a Kubernetes CPU quantity/],
    ["memory", "4GB", /quotas\.memory: must be a Kubernetes memory quantity/],
    ["memory", "-1Gi", /quotas\.memory: must be a Kubernetes memory quantity/],
  ])(
    "an invalid %s quantity %j is refused at its line (never reaching an API server)",
    (field, value, reason) => {
      const errors = errorsOf({
        "quail.yaml": `slug: quail\nname: Quail\ntier: pro\nquotas:\n  ${field}: ${JSON.stringify(value)}\n`,
      });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(new RegExp(`^tenants/quail\\.yaml:5:${field.length + 5}: `));
      expect(errors[0]).toMatch(reason);
    },
  );

  it("reports every error of every file in one run", () => {
    const errors = errorsOf({
      "aa.yaml": "slug: aa\nname: A\ntier: gold\n",
      "bb.yaml": "slug: bb\nname: B\ntier: free\nquotas:\n  cpu: lots\n",
      "cc.yaml": "slug: cc\nname: [\n",
    });
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors[0]).toMatch(/^tenants\/aa\.yaml:3:7: tier: unknown tier "gold"/);
    expect(errors[1]).toMatch(
      /^tenants\/bb\.yaml:5:8: quotas\.cpu: must be a Kubernetes CPU quantity/,
    );
    expect(errors[2]).toMatch(/^tenants\/cc\.yaml:\d+:\d+: \(file\): YAML syntax error/);
  });
});

describe("cross-file and cross-field rules", () => {
  it("unknown tier, with a suggestion", () => {
    expect(errorsOf({ "acme.yaml": "slug: acme\nname: Acme\ntier: proo\n" })).toEqual([
      'tenants/acme.yaml:3:7: tier: unknown tier "proo" (did you mean "pro"?); tiers are free, pro',
    ]);
  });

  it("slug that does not match the file name", () => {
    expect(errorsOf({ "acme.yaml": "slug: acme-corp\nname: Acme\ntier: free\n" })).toEqual([
      'tenants/acme.yaml:1:7: slug: "acme-corp" does not match the file name (expected "acme")',
    ]);
  });

  it("duplicate slug across files", () => {
    const errors = errorsOf({
      "acme.yaml": "slug: acme\nname: Acme\ntier: free\n",
      "acme.yml": "name: Acme again\ntier: free\nslug: acme\n",
    });
    expect(errors).toEqual([
      'tenants/acme.yml:3:7: slug: duplicate slug "acme", already defined in tenants/acme.yaml',
    ]);
  });

  it("override the tier does not allow", () => {
    expect(
      errorsOf({
        "acme.yaml": "slug: acme\nname: Acme\ntier: free\noverrides:\n  database: dedicated\n",
      }),
    ).toEqual([
      'tenants/acme.yaml:5:13: overrides.database: tier "free" does not allow database "dedicated" (allowed: only the tier\'s "pool"); choose another tier or add it to tiers.free.allowedOverrides.database',
    ]);
  });

  it("federated identity without federation settings, and federation without federated identity", () => {
    expect(
      errorsOf({
        "aa.yaml": "slug: aa\nname: A\ntier: pro\noverrides:\n  identity: federated\n",
        "bb.yaml":
          "slug: bb\nname: B\ntier: pro\nfederation:\n  protocol: saml\n  metadataUrl: https://x.example/m\n",
      }),
    ).toEqual([
      "tenants/aa.yaml:1:1: federation: is required because identity is federated (add protocol oidc or saml)",
      'tenants/bb.yaml:4:1: federation: is set but identity is "shared"; remove it or override identity to federated',
    ]);
  });

  it("region outside the tier's regions and outside data residency", () => {
    expect(
      errorsOf({
        "aa.yaml": "slug: aa\nname: A\ntier: pro\nregion: ap-south-1\n",
        "bb.yaml": "slug: bb\nname: B\ntier: free\nregion: us-east-1\ndataResidency: eu\n",
      }),
    ).toEqual([
      'tenants/aa.yaml:4:9: region: region "ap-south-1" is not offered by tier "pro" (regions: us-east-1, eu-west-1)',
      'tenants/bb.yaml:4:9: region: region "us-east-1" is outside data residency "eu"',
    ]);
  });

  it("system tag keys are refused", () => {
    expect(
      errorsOf({ "aa.yaml": "slug: aa\nname: A\ntier: free\ntags:\n  tenant: other\n" }),
    ).toEqual(['tenants/aa.yaml:5:3: tags.tenant: "tenant" is set by the platform; remove it']);
  });

  it("a tier referencing an unknown mode", () => {
    const tiers = TIERS_YAML.replace("database: schema", "database: silo");
    expect(errorsOf({}, tiers)).toEqual([
      'tenants/tiers.yaml:12:17: tiers.pro.layers.database: "silo" is not one of "pool", "schema", "dedicated"',
    ]);
  });

  it("a tier allowing an unknown mode", () => {
    const tiers = TIERS_YAML.replace("database: [dedicated]", "database: [dedicated, sharded]");
    expect(errorsOf({}, tiers)).toEqual([
      'tenants/tiers.yaml:17:29: tiers.pro.allowedOverrides.database[1]: "sharded" is not one of "pool", "schema", "dedicated"',
    ]);
  });

  it("tiers file missing entirely", () => {
    const result = validateCatalogFiles([
      { path: "tenants/aa.yaml", text: "slug: aa\nname: A\ntier: free\n" },
    ]);
    expect(result.ok).toBe(false);
  });
});
