import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * A random secret generated once and kept in a 0600 file (the local default's operator
 * token, database password, state passphrase). Concurrent first calls agree on one value.
 */
export async function keptSecret(file: string): Promise<string> {
  return (await keepSecret(file)).value;
}

/** {@link keptSecret}, also saying whether this call created it. */
export async function keepSecret(file: string): Promise<{ value: string; created: boolean }> {
  await mkdir(dirname(file), { recursive: true });
  let created = true;
  try {
    await writeFile(file, randomBytes(24).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    created = false;
  }
  await chmod(file, 0o600);
  return { value: (await readFile(file, "utf8")).trim(), created };
}
