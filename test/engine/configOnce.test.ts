/**
 * `setConfigOnce` against the real engine: a stack's config is set once, skipped while it and
 * the settings file are unchanged, and set again when either changed (a new value, an edited
 * or removed settings file, another passphrase).
 */
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation/index.js";
import { beforeAll, expect, it } from "vitest";
import { setConfigOnce } from "../../control-plane/runner/configOnce.ts";
import type { EngineSettings } from "../../control-plane/runner/engine.ts";
import { stackWorkspace } from "../../control-plane/runner/workspace.ts";
import { describeWithEngine, testEngine } from "../support/engine.ts";

describeWithEngine("stack config set only when it changed", () => {
  let engine: EngineSettings;
  let stack: Stack;
  let settingsFile: string;

  beforeAll(async () => {
    engine = await testEngine();
    const workDir = await stackWorkspace(engine.stateDir, engine.projectDir, "tenant-config");
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "tenant-config", workDir },
      { pulumiCommand: engine.command, envVars: { ...engine.env } },
    );
    settingsFile = join(workDir, "Pulumi.tenant-config.yaml");
  }, 120_000);

  const passphrase = () => engine.env.PULUMI_CONFIG_PASSPHRASE;
  const config = (quota: number) => ({
    "tenancy:quota": { value: String(quota) },
    "tenancy:databaseUrl": { value: `postgres://admin:s3cret-${quota}@db/x`, secret: true },
  });
  const values = async () => {
    const all = await stack.getAllConfig();
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.value]));
  };

  it("sets, skips, and sets again on a change of value, file or passphrase", async () => {
    expect(await setConfigOnce(stack, config(1), passphrase())).toBe("set");
    expect(await values()).toEqual({
      "tenancy:quota": "1",
      "tenancy:databaseUrl": "postgres://admin:s3cret-1@db/x",
    });
    const written = await stat(settingsFile);
    expect(await setConfigOnce(stack, config(1), passphrase())).toBe("unchanged");
    expect((await stat(settingsFile)).mtimeMs).toBe(written.mtimeMs);
    // The marker holds no secret in clear.
    const marker = await readFile(join(stack.workspace.workDir, ".tenant-config.config-set.json"));
    expect(marker.toString()).not.toContain("s3cret");

    expect(await setConfigOnce(stack, config(2), passphrase())).toBe("set");
    expect((await values())["tenancy:quota"]).toBe("2");

    // Someone edits the settings file: the config is set again.
    const text = await readFile(settingsFile, "utf8");
    await writeFile(settingsFile, text.replace('tenancy:quota: "2"', 'tenancy:quota: "9"'));
    expect((await values())["tenancy:quota"]).toBe("9");
    expect(await setConfigOnce(stack, config(2), passphrase())).toBe("set");
    expect((await values())["tenancy:quota"]).toBe("2");

    // The settings file is gone (e.g. `stack rm` then a new stack): set again.
    await rm(settingsFile);
    expect(await setConfigOnce(stack, config(2), passphrase())).toBe("set");
    expect(await values()).toEqual({
      "tenancy:quota": "2",
      "tenancy:databaseUrl": "postgres://admin:s3cret-2@db/x",
    });

    // Another passphrase keys another HMAC: not trusted as the same config.
    expect(await setConfigOnce(stack, config(2), "another")).toBe("set");
    expect(await setConfigOnce(stack, config(2), passphrase())).toBe("set");
    expect(await setConfigOnce(stack, config(2), passphrase())).toBe("unchanged");
  }, 120_000);
});
