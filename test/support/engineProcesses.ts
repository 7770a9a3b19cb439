/**
 * The Pulumi engine's processes on this machine (Linux /proc), found by an environment marker
 * the test gave the process that ran the engine: the engine passes its environment on to
 * every plugin it starts, and the language host to the programs and plugins it starts.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename } from "node:path";

export type EngineProcessKind =
  "engine" | "language-host" | "program" | "policy-pack" | "dynamic-provider";

export interface EngineProcess {
  readonly pid: number;
  readonly kind: EngineProcessKind;
  readonly command: string;
}

/** What a command line is, as far as the engine is concerned (undefined: not the engine's). */
export function engineProcessKind(argv: readonly string[]): EngineProcessKind | undefined {
  const exe = basename(argv[0] ?? "");
  if (exe === "pulumi") return "engine";
  if (exe === "pulumi-language-nodejs") return "language-host";
  if (argv.some((a) => basename(a) === "pulumi-resource-pulumi-nodejs")) return "dynamic-provider";
  if (exe !== "node" && !exe.startsWith("node")) return undefined;
  if (argv.some((a) => /[/\\]cmd[/\\]dynamic-provider([/\\]index\.js)?$/.test(a)))
    return "dynamic-provider";
  if (argv.some((a) => /[/\\]cmd[/\\]run-policy-pack([/\\]index\.js)?$/.test(a)))
    return "policy-pack";
  if (argv.some((a) => /[/\\]cmd[/\\]run([/\\]index\.js)?$/.test(a))) return "program";
  return undefined;
}

/** Live (not zombie) engine processes whose environment has `name=value`. */
export async function engineProcesses(name: string, value: string): Promise<EngineProcess[]> {
  const wanted = `${name}=${value}`;
  const found: EngineProcess[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const [cmdline, environ, stat] = await Promise.all([
        readFile(`/proc/${pid}/cmdline`, "utf8"),
        readFile(`/proc/${pid}/environ`, "utf8"),
        readFile(`/proc/${pid}/stat`, "utf8"),
      ]);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (!environ.split("\0").includes(wanted)) continue;
      const argv = cmdline.split("\0").filter(Boolean);
      const kind = engineProcessKind(argv);
      if (kind) found.push({ pid, kind, command: argv.join(" ") });
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}
