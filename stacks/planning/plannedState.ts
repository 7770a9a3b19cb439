/**
 * What the mock runtime answers for each resource and invoke while planning: the inputs back,
 * plus the outputs the components read (ids, ARNs, endpoints), as planned placeholders.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DatabaseMode } from "../../contract/index.ts";
import { hasOwnRole } from "../../components/database/tenantDatabase.ts";
import { plannedRouting } from "./plannedRouting.ts";
import { PLANNED_ACCOUNT } from "./plannedValues.ts";

type Inputs = Record<string, unknown>;

export interface PlannedStateOptions {
  readonly region: string;
  readonly partition: string;
  /** Outputs of the stacks a program references, by stack name. */
  readonly stackOutputs: Readonly<Record<string, Record<string, unknown>>>;
}

function str(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** id and state of a new resource. */
export function plannedResource(
  args: pulumi.runtime.MockResourceArgs,
  options: PlannedStateOptions,
): { id: string; state: Inputs } {
  const inputs = args.inputs as Inputs;
  const { region, partition } = options;
  const arn = (service: string, resource: string, withRegion = true) =>
    `arn:${partition}:${service}:${withRegion ? region : ""}:${PLANNED_ACCOUNT}:${resource}`;
  switch (args.type) {
    case "pulumi:pulumi:StackReference": {
      const name = str(inputs["name"], args.name);
      const outputs = options.stackOutputs[name];
      if (!outputs) throw new Error(`planning: no outputs for referenced stack ${name}`);
      return { id: name, state: { ...inputs, name, outputs, secretOutputNames: [] } };
    }
    case "aws:kms/key:Key":
      return {
        id: `planned-${args.name}`,
        state: {
          ...inputs,
          keyId: `planned-${args.name}`,
          arn: arn("kms", `key/planned-${args.name}`),
        },
      };
    case "aws:iam/role:Role": {
      const name = str(inputs["name"], args.name);
      return {
        id: name,
        state: {
          ...inputs,
          name,
          arn: arn("iam", `role${str(inputs["path"], "/")}${name}`, false),
        },
      };
    }
    case "aws:iam/policy:Policy":
      return {
        id: `planned-${args.name}`,
        state: {
          ...inputs,
          arn: arn("iam", `policy${str(inputs["path"], "/")}${args.name}`, false),
        },
      };
    case "aws:s3/bucket:Bucket": {
      const bucket = str(inputs["bucket"], args.name);
      return { id: bucket, state: { ...inputs, bucket, arn: `arn:${partition}:s3:::${bucket}` } };
    }
    case "aws:secretsmanager/secret:Secret": {
      const name = str(inputs["name"], args.name);
      return {
        id: arn("secretsmanager", `secret:${name}`),
        state: { ...inputs, arn: arn("secretsmanager", `secret:${name}`) },
      };
    }
    case "aws:rds/instance:Instance": {
      const identifier = str(inputs["identifier"], args.name);
      return {
        id: identifier,
        state: {
          ...inputs,
          address: `${identifier}.planned.invalid`,
          port: inputs["port"] ?? 5432,
          masterUserSecrets: [{ secretArn: arn("secretsmanager", `secret:rds!${identifier}`) }],
        },
      };
    }
    case "aws:organizations/account:Account":
      return {
        id: "111111111111",
        state: { ...inputs, arn: arn("organizations", "account/planned", false) },
      };
    case "aws:cognito/userPool:UserPool":
      return {
        id: `${region}_planned`,
        state: { ...inputs, arn: arn("cognito-idp", `userpool/${region}_planned`) },
      };
    case "pulumi-nodejs:dynamic/tenancy:TenantDatabase": {
      // What the db/ drivers answer: the routing record of the placement.
      const { __provider: _provider, ...rest } = inputs;
      const optional = (key: string) =>
        typeof inputs[key] === "string" ? { [key]: inputs[key] } : {};
      const mode = str(inputs["mode"], "pool") as DatabaseMode;
      const routing = plannedRouting({
        slug: str(inputs["slug"], args.name),
        mode,
        adminUrl: str(inputs["adminUrl"], "postgres://planned.invalid:5432/app"),
        ...optional("rolePrefix"),
        ...optional("databasePrefix"),
      });
      return {
        id: `planned-${args.name}`,
        state: {
          ...rest,
          ...routing,
          password: hasOwnRole(mode) ? "planned-not-a-password" : undefined,
        },
      };
    }
    default:
      return { id: `planned-${args.name}`, state: { ...inputs } };
  }
}

/** Result of an invoke. */
export function plannedInvoke(
  args: pulumi.runtime.MockCallArgs,
  options: PlannedStateOptions,
): Inputs {
  const inputs = args.inputs as Inputs;
  switch (args.token) {
    case "aws:secretsmanager/getSecretVersion:getSecretVersion":
      return {
        ...inputs,
        arn: inputs["secretId"],
        secretString: JSON.stringify({ username: "planned", password: "planned-not-a-password" }),
      };
    case "aws:eks/getCluster:getCluster":
      return {
        ...inputs,
        endpoint: "https://eks.planned.invalid",
        certificateAuthorities: [{ data: "cGxhbm5lZA==" }],
        identities: [{ oidcs: [{ issuer: "https://oidc.eks.planned.invalid/id/PLANNED" }] }],
        vpcConfig: { clusterSecurityGroupId: "sg-planned-cluster", vpcId: "vpc-planned" },
        arn: `arn:${options.partition}:eks:${options.region}:${PLANNED_ACCOUNT}:cluster/${String(inputs["name"])}`,
      };
    default:
      return inputs;
  }
}
