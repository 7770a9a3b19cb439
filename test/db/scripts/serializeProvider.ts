/**
 * Prints the TenantDatabase provider as Pulumi serialises it for the dynamic-provider process
 * (run with `node --import tsx`, outside vitest, whose transforms would change the text).
 */
import * as pulumi from "@pulumi/pulumi";
import { tenantDatabaseProvider } from "../../../db/pulumi/tenantDatabaseObjects.ts";

const serialized = await pulumi.runtime.serializeFunction(() => tenantDatabaseProvider, {
  allowSecrets: true,
});
process.stdout.write(serialized.text);
