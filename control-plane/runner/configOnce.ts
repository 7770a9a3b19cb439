/**
 * `config set-all` only when the config changed. Setting a stack's config is one engine
 * process, and with a secret in it one derivation of the passphrase's key (~0.3 s of CPU
 * here): a no-op `up` paid it every time for config that was already there.
 *
 * After a `set-all`, a marker beside the stack's settings file keeps an HMAC of the config
 * (keyed by the secrets passphrase, so the file says nothing about the secrets it covers) and a
 * hash of the settings file as `set-all` left it. The next call skips `set-all` when both still
 * match: the same config, and a settings file nobody changed since (edited, re-encrypted,
 * removed by `stack rm`: any of those sets the config again).
 */
import { createHash, createHmac } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation/index.js";
import { stableJson } from "../../fleet/stableJson.ts";

interface ConfigMarker {
  readonly config: string;
  readonly settings: string;
}

const MARKER_SUFFIX = ".config-set.json";

/** Sets `config` on `stack` unless the marker proves it is already there. */
export async function setConfigOnce(
  stack: Stack,
  config: ConfigMap,
  passphrase: string | undefined,
): Promise<"set" | "unchanged"> {
  const workDir = stack.workspace.workDir;
  const name = stack.name.split("/").at(-1) ?? stack.name; // org/project/stack → stack
  const settingsFile = join(workDir, `Pulumi.${name}.yaml`);
  const markerFile = join(workDir, `.${name}${MARKER_SUFFIX}`);
  const configHash = createHmac("sha256", passphrase ?? "")
    .update(stableJson(config))
    .digest("hex");
  const marker = await readMarker(markerFile);
  if (marker?.config === configHash && marker.settings === (await fileHash(settingsFile))) {
    return "unchanged";
  }
  await rm(markerFile, { force: true });
  await stack.setAllConfig(config);
  const settings = await fileHash(settingsFile);
  if (settings !== undefined) {
    const written: ConfigMarker = { config: configHash, settings };
    await writeFile(markerFile, JSON.stringify(written));
  }
  return "set";
}

async function readMarker(file: string): Promise<ConfigMarker | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<ConfigMarker>;
    return typeof parsed.config === "string" && typeof parsed.settings === "string"
      ? { config: parsed.config, settings: parsed.settings }
      : undefined;
  } catch {
    return undefined;
  }
}

async function fileHash(file: string): Promise<string | undefined> {
  try {
    return createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  } catch {
    return undefined;
  }
}
