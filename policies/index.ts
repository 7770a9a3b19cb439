/** Entry point of the policy pack (PulumiPolicy.yaml `main`). */
import { PolicyPack } from "@pulumi/policy";
import { tenancyPolicies } from "./pack.ts";

new PolicyPack("tenancy-isolation", { enforcementLevel: "mandatory", policies: tenancyPolicies });
