import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { DatabaseMode } from "../../catalog/index.ts";
import { TenantDatabase, databasePlacement } from "../../components/database/tenantDatabase.ts";
import type { Target } from "../../contract/index.ts";
import { collect, ofType, one, PLATFORM, typeCounts, observingProvisioner } from "./harness.ts";

const TENANT_KEY = "arn:aws:kms:eu-west-1:000000000000:key/tenant-key";
const SHARED_URL = "postgres://admin:pw@shared.example:5432/app";

function database(mode: DatabaseMode, target: Target, tenantKey?: string) {
  const { provisioner, calls } = observingProvisioner();
  let component: TenantDatabase | undefined;
  const run = collect(() => {
    component = new TenantDatabase("acme-database", {
      slug: "acme",
      mode,
      target,
      quotas: { dbConnections: 25, statementTimeoutMs: 30_000 },
      provisioner,
      sharedAdminUrl: pulumi.secret(SHARED_URL),
      dedicatedServer: {
        vpcId: PLATFORM.vpcId,
        subnetIds: PLATFORM.privateSubnetIds,
        clientSecurityGroupIds: ["sg-acme-pods"],
        ...(tenantKey ? { kmsKeyArn: tenantKey } : {}),
      },
      secretKmsKeyArn: tenantKey ?? PLATFORM.platformKeyArn,
    });
    return { routing: component.routing };
  });
  return run.then((result) => ({ ...result, calls, component: component! }));
}

const OBJECTS = { "pulumi-nodejs:dynamic/tenancy:TenantDatabase": 1 };
const SECRET = {
  "aws:secretsmanager/secret:Secret": 1,
  "aws:secretsmanager/secretVersion:SecretVersion": 1,
};
const SERVER = {
  "aws:rds/subnetGroup:SubnetGroup": 1,
  "aws:ec2/securityGroup:SecurityGroup": 1,
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1,
  "aws:rds/parameterGroup:ParameterGroup": 1,
  "aws:rds/instance:Instance": 1,
};
const OWN_KEY = { "aws:kms/key:Key": 1, "aws:kms/alias:Alias": 1 };

describe("TenantDatabase", () => {
  it.each([
    ["pool", "aws", OBJECTS],
    ["schema", "aws", { ...OBJECTS, ...SECRET }],
    ["dedicated", "aws", { ...OBJECTS, ...SECRET, ...SERVER, ...OWN_KEY }],
    ["pool", "local", OBJECTS],
    ["schema", "local", OBJECTS],
    ["dedicated", "local", OBJECTS],
  ] as const)("%s on %s declares exactly its resources", async (mode, target, expected) => {
    const { resources } = await database(mode, target);
    expect(typeCounts(resources)).toEqual(expected);
  });

  it.each([
    ["pool", "aws", "shared-server"],
    ["schema", "local", "shared-server"],
    ["dedicated", "aws", "dedicated-server"],
    ["dedicated", "local", "database-on-shared-server"],
  ] as const)("placement of %s on %s is %s", (mode, target, placement) => {
    expect(databasePlacement(mode, target)).toBe(placement);
  });

  it.each(["pool", "schema"] as const)(
    "%s: the in-database provisioner gets the shared server's admin URL, as a secret, and the quotas",
    async (mode) => {
      const { calls, resources } = await database(mode, "aws");
      expect(calls).toHaveLength(1);
      const call = calls[0]!;
      expect(call.name).toBe("acme-database-objects");
      expect(call.request).toMatchObject({
        slug: "acme",
        mode,
        quotas: { dbConnections: 25, statementTimeoutMs: 30_000 },
      });
      expect(pulumi.Output.isInstance(call.request.adminUrl)).toBe(true);
      expect(await pulumi.isSecret(call.request.adminUrl as pulumi.Output<string>)).toBe(true);
      const objects = one(resources, "pulumi-nodejs:dynamic/tenancy:TenantDatabase");
      expect(objects.parent).toBe("acme-database");
      expect(objects.inputs["adminUrl"]).toBe(SHARED_URL);
      expect(objects.secretInputs).toContain("adminUrl");
    },
  );

  it("dedicated on aws: the provisioner targets the tenant's own instance, via its managed master secret", async () => {
    const { calls, resources } = await database("dedicated", "aws");
    const objects = one(resources, "pulumi-nodejs:dynamic/tenancy:TenantDatabase");
    const url = new URL(objects.inputs["adminUrl"] as string);
    expect(url.hostname).toBe("tenancy-acme.planned.invalid");
    expect(url.searchParams.get("sslmode")).toBe("verify-full");
    expect(calls[0]?.request.mode).toBe("dedicated");
  });

  it.each([
    ["its own key", undefined],
    ["the tenant's key", TENANT_KEY],
  ])(
    "dedicated RDS instance: encrypted with %s, private, protected, backed up, TLS forced",
    async (_what, key) => {
      const { resources } = await database("dedicated", "aws", key);
      const instance = one(resources, "aws:rds/instance:Instance");
      const expectedKey =
        key ?? "arn:aws:kms:eu-west-1:000000000000:key/planned-acme-database-dedicated-kms-key";
      expect(instance.inputs).toMatchObject({
        identifier: "tenancy-acme",
        engine: "postgres",
        storageEncrypted: true,
        kmsKeyId: expectedKey,
        masterUserSecretKmsKeyId: expectedKey,
        publiclyAccessible: false,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: "tenancy-acme-final",
        backupRetentionPeriod: 14,
        manageMasterUserPassword: true,
        dbSubnetGroupName: "tenancy-acme",
        parameterGroupName: "tenancy-acme",
      });
      expect(instance.inputs["password"]).toBeUndefined();
      expect(ofType(resources, "aws:kms/key:Key")).toHaveLength(key ? 0 : 1);
      const params = one(resources, "aws:rds/parameterGroup:ParameterGroup");
      expect(params.inputs["family"]).toBe("postgres16");
      expect(params.inputs["parameters"]).toContainEqual({
        name: "rds.force_ssl",
        value: "1",
        applyMethod: "pending-reboot",
      });
    },
  );

  it("dedicated security group: no inline rules, one ingress from the tenant's pods on 5432 only", async () => {
    const { resources } = await database("dedicated", "aws");
    const group = one(resources, "aws:ec2/securityGroup:SecurityGroup");
    expect(group.inputs).toMatchObject({ vpcId: PLATFORM.vpcId, ingress: [], egress: [] });
    expect(
      one(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs,
    ).toMatchObject({
      securityGroupId: group.id,
      referencedSecurityGroupId: "sg-acme-pods",
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
    });
    expect(one(resources, "aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]).toEqual(
      PLATFORM.privateSubnetIds,
    );
  });

  it("the tenant role's credentials go to Secrets Manager under the tenant's name and key, not into routing", async () => {
    const { resources, outputs } = await database("schema", "aws", TENANT_KEY);
    expect(one(resources, "aws:secretsmanager/secret:Secret").inputs).toMatchObject({
      name: "tenancy/tenants/acme/database",
      kmsKeyId: TENANT_KEY,
      recoveryWindowInDays: 30,
    });
    const stored = JSON.parse(
      one(resources, "aws:secretsmanager/secretVersion:SecretVersion").inputs[
        "secretString"
      ] as string,
    ) as Record<string, unknown>;
    expect(one(resources, "aws:secretsmanager/secretVersion:SecretVersion").secretInputs).toEqual([
      "secretString",
    ]);
    expect(stored).toMatchObject({
      role: "tenancy_t_acme",
      schema: "tenant_acme",
      password: "planned-not-a-password",
    });
    const routing = outputs["routing"] as Record<string, unknown>;
    expect(routing).toMatchObject({
      mode: "schema",
      role: "tenancy_t_acme",
      schema: "tenant_acme",
    });
    expect(routing["secretRef"]).toMatch(
      /^arn:aws:secretsmanager:.*:secret:tenancy\/tenants\/acme\/database$/,
    );
    expect(JSON.stringify(routing)).not.toContain("planned-not-a-password");
  });

  it("dedicated on aws without network settings is refused with what to do", async () => {
    await expect(
      collect(
        () =>
          new TenantDatabase("x", {
            slug: "x",
            mode: "dedicated",
            target: "aws",
            quotas: { dbConnections: 1, statementTimeoutMs: 100 },
            provisioner: observingProvisioner().provisioner,
            sharedAdminUrl: SHARED_URL,
          }),
      ),
    ).rejects.toThrow(/needs dedicatedServer/);
  });
});
