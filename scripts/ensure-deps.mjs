#!/usr/bin/env node
// Runs before `npm start` and `npm test`: on a fresh clone (no node_modules yet), installs
// the locked dependencies first so the README's two commands work on their own.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (!existsSync("node_modules/.package-lock.json")) {
  console.error("tenancy: installing dependencies (npm ci) ...");
  const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}
