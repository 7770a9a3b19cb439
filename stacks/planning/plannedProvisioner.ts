/**
 * The in-database provisioner used while planning. It declares the same resource as the
 * deployment's (type {@link TENANT_DATABASE_TYPE}, same name, parent and inputs) but skips
 * serializing the dynamic provider's code, which is slow and, inside test runners that
 * rewrite imports, does not finish. The mocks answer with the routing the drivers return.
 * test/components/plan.test.ts checks it against the real resource in a plain Node process.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  routingOf,
  type InDatabaseProvisioner,
} from "../../components/database/inDatabaseProvisioner.ts";
import {
  TENANT_DATABASE_TYPE,
  tenantDatabaseObjectsInputs,
  type DatabaseNaming,
} from "../tenant/provisioner.ts";

class PlannedTenantDatabase extends pulumi.CustomResource {
  declare public readonly tenantId: pulumi.Output<string>;
  declare public readonly host: pulumi.Output<string>;
  declare public readonly port: pulumi.Output<number>;
  declare public readonly database: pulumi.Output<string>;
  declare public readonly schema: pulumi.Output<string>;
  declare public readonly role: pulumi.Output<string>;
  declare public readonly version: pulumi.Output<number>;
  declare public readonly password: pulumi.Output<string | undefined>;

  constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
    super(
      TENANT_DATABASE_TYPE,
      name,
      {
        ...props,
        tenantId: undefined,
        host: undefined,
        port: undefined,
        database: undefined,
        schema: undefined,
        role: undefined,
        version: undefined,
        password: undefined,
      },
      opts,
    );
  }
}

/** The planning stand-in of `tenantDatabaseProvisioner(naming)`: same type, name and inputs. */
export function plannedProvisionerFor(naming: DatabaseNaming = {}): InDatabaseProvisioner {
  return (name, request, opts) => {
    const objects = new PlannedTenantDatabase(
      name,
      tenantDatabaseObjectsInputs(request, naming),
      opts,
    );
    const routing = routingOf(objects);
    return { resource: objects, routing, password: pulumi.secret(objects.password) };
  };
}

/** With the db layer's default naming. */
export const plannedProvisioner: InDatabaseProvisioner = plannedProvisionerFor();
