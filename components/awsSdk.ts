/**
 * `@pulumi/aws`, loaded the first time a component declares an AWS resource. A program on the
 * `local` target declares none, so it never pays for loading the AWS SDK (hundreds of modules,
 * each through tsx's loader hooks): components import this instead of the package's values, and
 * `import type` for its types.
 */
import { createRequire } from "node:module";
import type * as Aws from "@pulumi/aws";

const load = createRequire(import.meta.url);
let sdk: typeof Aws | undefined;

export function awsSdk(): typeof Aws {
  sdk ??= load("@pulumi/aws") as typeof Aws;
  return sdk;
}
