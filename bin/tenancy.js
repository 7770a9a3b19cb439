#!/usr/bin/env node
// Entry point of the `tenancy` command. The sources are TypeScript; tsx loads them
// directly so `npx tenancy` works from a fresh clone without a build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
