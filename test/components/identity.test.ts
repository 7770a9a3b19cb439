import { describe, expect, it } from "vitest";
import type { Federation, IdentityMode } from "../../catalog/index.ts";
import { SharedUserPool } from "../../components/identity/sharedUserPool.ts";
import { TenantIdentity } from "../../components/identity/tenantIdentity.ts";
import { collect, one, typeCounts } from "./harness.ts";

const OIDC: Federation = {
  protocol: "oidc",
  issuer: "https://login.acme.example",
  clientId: "tenancy-acme",
  clientSecretRef: "tenants/acme/oidc-client-secret",
};
const SAML: Federation = { protocol: "saml", metadataUrl: "https://sso.acme.example/metadata" };

function identity(mode: IdentityMode, federation?: Federation) {
  return collect(
    () =>
      new TenantIdentity("acme-identity", {
        slug: "acme",
        mode,
        userPoolId: "eu-west-1_pool",
        ...(federation ? { federation } : {}),
      }),
  );
}

describe("TenantIdentity", () => {
  it.each([
    ["shared", undefined, { "aws:cognito/userGroup:UserGroup": 1 }],
    [
      "federated",
      OIDC,
      { "aws:cognito/userGroup:UserGroup": 1, "aws:cognito/identityProvider:IdentityProvider": 1 },
    ],
    [
      "federated",
      SAML,
      { "aws:cognito/userGroup:UserGroup": 1, "aws:cognito/identityProvider:IdentityProvider": 1 },
    ],
  ] as const)("%s (%o) declares exactly its resources", async (mode, federation, expected) => {
    const { resources } = await identity(mode, federation);
    expect(typeCounts(resources)).toEqual(expected);
    expect(one(resources, "aws:cognito/userGroup:UserGroup").inputs).toMatchObject({
      name: "tenant:acme",
      userPoolId: "eu-west-1_pool",
    });
  });

  it("OIDC: the tenant's issuer and client; the client secret read from Secrets Manager, kept secret", async () => {
    const { resources, invokes } = await identity("federated", OIDC);
    const provider = one(resources, "aws:cognito/identityProvider:IdentityProvider");
    expect(provider.inputs).toMatchObject({
      userPoolId: "eu-west-1_pool",
      providerName: "t-acme",
      providerType: "OIDC",
      providerDetails: {
        client_id: "tenancy-acme",
        oidc_issuer: "https://login.acme.example",
        authorize_scopes: "openid email profile",
        attributes_request_method: "GET",
      },
      attributeMapping: { email: "email", username: "sub" },
    });
    expect(provider.secretInputs).toEqual(["providerDetails"]);
    expect(invokes).toContainEqual({
      token: "aws:secretsmanager/getSecretVersion:getSecretVersion",
      inputs: { secretId: "tenants/acme/oidc-client-secret" },
    });
  });

  it("SAML: the tenant's metadata URL", async () => {
    const { resources } = await identity("federated", SAML);
    expect(one(resources, "aws:cognito/identityProvider:IdentityProvider").inputs).toMatchObject({
      providerType: "SAML",
      providerDetails: { MetadataURL: "https://sso.acme.example/metadata", IDPSignout: "false" },
    });
  });

  it("federated without a federation is refused", async () => {
    await expect(identity("federated")).rejects.toThrow(/has no federation/);
  });

  it("the shared user pool carries an immutable tenant claim and is protected", async () => {
    const { resources } = await collect(() => new SharedUserPool("users", { poolName: "tenancy" }));
    expect(one(resources, "aws:cognito/userPool:UserPool").inputs).toMatchObject({
      deletionProtection: "ACTIVE",
      mfaConfiguration: "OPTIONAL",
      schemas: [{ name: "tenant", attributeDataType: "String", mutable: false }],
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      passwordPolicy: { minimumLength: 12 },
    });
  });
});
