/**
 * `tenancy:identity:TenantIdentity` — the identity layer of one tenant: its group in the
 * shared user pool (the group name is the tenant claim), and for `federated` tenants their
 * own OIDC or SAML identity provider in that pool.
 */
import { awsSdk } from "../awsSdk.ts";
import * as pulumi from "@pulumi/pulumi";
import type { Federation, IdentityMode } from "../../catalog/index.ts";
import { assertNever } from "../../contract/index.ts";
import { tenantGroupName, tenantProviderName } from "../naming.ts";

export interface TenantIdentityArgs {
  /** The tenant's slug; every name and identifier derives from it. */
  readonly slug: string;
  /** Isolation mode of this layer, from the resolved catalog spec. */
  readonly mode: IdentityMode;
  /** The platform's shared user pool. */
  readonly userPoolId: pulumi.Input<string>;
  /** The tenant's identity provider; required when `mode` is `federated`. */
  readonly federation?: Federation;
}

const SAML_EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";

/** Cognito provider type, details and attribute mapping of a federation (secret excluded). */
export function providerSettings(federation: Federation) {
  if (federation.protocol === "oidc") {
    return {
      providerType: "OIDC",
      providerDetails: {
        client_id: federation.clientId,
        oidc_issuer: federation.issuer,
        authorize_scopes: (federation.scopes ?? ["openid", "email", "profile"]).join(" "),
        attributes_request_method: "GET",
      } as Record<string, string>,
      attributeMapping: { email: "email", username: "sub" } as Record<string, string>,
    };
  }
  return {
    providerType: "SAML",
    providerDetails: { MetadataURL: federation.metadataUrl, IDPSignout: "false" } as Record<
      string,
      string
    >,
    attributeMapping: { email: SAML_EMAIL } as Record<string, string>,
  };
}

export class TenantIdentity extends pulumi.ComponentResource {
  public readonly mode: IdentityMode;
  public readonly groupName: pulumi.Output<string>;
  /** Name of the tenant's identity provider (federated only). */
  public readonly providerName?: pulumi.Output<string>;

  constructor(name: string, args: TenantIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenancy:identity:TenantIdentity", name, {}, opts);
    const aws = awsSdk();
    const group = new aws.cognito.UserGroup(
      `${name}-group`,
      {
        name: tenantGroupName(args.slug),
        userPoolId: args.userPoolId,
        description: `Users of tenant ${args.slug}`,
      },
      { parent: this },
    );
    switch (args.mode) {
      case "shared":
        break;
      case "federated": {
        if (!args.federation) {
          throw new pulumi.ResourceError(
            `tenant ${args.slug}: identity is federated but the tenant has no federation (add protocol oidc or saml to its catalog file)`,
            this,
          );
        }
        const settings = providerSettings(args.federation);
        const federation = args.federation;
        // The OIDC client secret is read from Secrets Manager at deploy time; it never
        // appears in the catalog, the config or the plan.
        const providerDetails: pulumi.Input<Record<string, pulumi.Input<string>>> =
          federation.protocol === "oidc" && federation.clientSecretRef
            ? {
                ...settings.providerDetails,
                client_secret: pulumi.secret(
                  aws.secretsmanager.getSecretVersionOutput(
                    { secretId: federation.clientSecretRef },
                    { parent: this },
                  ).secretString,
                ),
              }
            : settings.providerDetails;
        const provider = new aws.cognito.IdentityProvider(
          `${name}-idp`,
          {
            userPoolId: args.userPoolId,
            providerName: tenantProviderName(args.slug),
            providerType: settings.providerType,
            providerDetails,
            attributeMapping: settings.attributeMapping,
          },
          { parent: this },
        );
        this.providerName = provider.providerName;
        break;
      }
      default:
        assertNever(args.mode, "identity mode");
    }
    this.mode = args.mode;
    this.groupName = group.name;
    this.registerOutputs({ groupName: this.groupName });
  }
}
