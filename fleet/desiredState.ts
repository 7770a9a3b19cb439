/**
 * The desired state of a tenant stack as one hash: the resolved spec and stack config, the
 * tenant's declared resources with their inputs (planned under the mock runtime, see
 * ./declaredResources.ts), the code of the in-database dynamic provider (./providerCode.ts: the
 * engine serializes it into the resource, the planner does not see it), and the engine and
 * provider-SDK versions. So a component change that alters a tenant's resources changes that
 * tenant's hash, and a change that alters nothing it declares (a comment, a refactoring)
 * changes no hash. `tenancy up` records it after a successful update and skips a stack whose
 * hash is unchanged without starting the engine; the control-plane service records it after
 * each stack update and `reconcile` updates a stack whose hash is not current
 * (./serviceDesiredState.ts). The hash itself: ./desiredStateHasher.ts.
 *
 * Where it is recorded: next to the stack's state in the file backend,
 * `<backend>/.tenancy/desired-state/<stack>.json`. Reading 5,000 small files costs well under a
 * second, where a stack tag would need one engine call per stack just to read it. The record
 * also keeps the size and mtime of the stack's state file when it was written: any later
 * change of the state (an update by the service, a refresh, a manual `pulumi up`) makes the
 * record stale, so the next rollout runs the engine rather than trusting it. Other backends
 * (s3://, Pulumi Cloud) have no such file: every stack is then deployed (never skipped).
 */
import { createHash } from "node:crypto";
import { readdir, readFile, mkdir, rename, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { stableJson } from "./stableJson.ts";

/** Directories and files whose content is the tenant program (what `pulumi up` runs). */
export const PROGRAM_PATHS = [
  "catalog",
  "components",
  "stacks",
  "db",
  "Pulumi.yaml",
  "package-lock.json",
];
const PROGRAM_FILE = /\.(ts|js|mjs|sql|json|ya?ml)$/;
/** Stack settings files in stacks/ are examples, not program code. */
const NOT_PROGRAM = /(^|\/)Pulumi\.[^/]+\.yaml$|\.md$/;

/** sha256 over the files under `paths` (path and content), in path order. */
export async function programCodeHash(
  root: string,
  paths: readonly string[] = PROGRAM_PATHS,
): Promise<string> {
  const files: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path).catch(() => undefined);
    if (!info) return;
    if (info.isDirectory()) {
      for (const entry of await readdir(path)) {
        if (entry === "node_modules" || entry.startsWith(".")) continue;
        await walk(join(path, entry));
      }
    } else if (PROGRAM_FILE.test(path) || path.endsWith("Pulumi.yaml")) {
      const rel = relative(root, path);
      if (rel === "Pulumi.yaml" || !NOT_PROGRAM.test(rel)) files.push(rel);
    }
  };
  for (const entry of paths) await walk(join(root, entry));
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Versions of the SDKs whose providers the program uses (their plugins follow them). */
export async function sdkVersions(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/kubernetes"]) {
    try {
      const pkg = JSON.parse(
        await readFile(join(root, "node_modules", name, "package.json"), "utf8"),
      ) as { version: string };
      out[name] = pkg.version;
    } catch {
      out[name] = "absent";
    }
  }
  return out;
}

export interface DesiredStateInputs {
  /** The resolved tenant spec. */
  readonly spec: unknown;
  /** The stack's config (values included: a changed database URL is a changed stack). */
  readonly config: unknown;
  /** Hash of the tenant's declared resources with inputs (./declaredResources.ts). */
  readonly resources: string;
  /** Hash of the dynamic provider's code (./providerCode.ts). */
  readonly providerCode: string;
  readonly engine: string;
  readonly sdks: Readonly<Record<string, string>>;
}

export function desiredStateHash(inputs: DesiredStateInputs): string {
  return createHash("sha256").update(stableJson(inputs)).digest("hex");
}

export type DesiredStateStatus = "current" | "absent" | "different" | "stale";

interface Record_ {
  readonly hash: string;
  readonly recordedAt: string;
  readonly state: { readonly file: string; readonly size: number; readonly mtimeMs: number };
}

/** Desired-state records of a file backend; `undefined` backend dir = records unsupported. */
export class DesiredStateStore {
  constructor(
    private readonly backendDir: string | undefined,
    private readonly project = "tenancy",
  ) {}

  /** The store of a `PULUMI_BACKEND_URL`; only `file://` backends keep records. */
  static forBackend(backendUrl: string): DesiredStateStore {
    return new DesiredStateStore(
      backendUrl.startsWith("file://") ? backendUrl.slice("file://".length) : undefined,
    );
  }

  get supported(): boolean {
    return this.backendDir !== undefined;
  }

  private recordPath(stack: string): string {
    return join(this.backendDir ?? "", ".tenancy", "desired-state", `${stack}.json`);
  }

  private async stateFile(stack: string) {
    for (const name of [`${stack}.json`, `${stack}.json.gz`]) {
      const file = join(this.backendDir ?? "", ".pulumi", "stacks", this.project, name);
      const info = await stat(file).catch(() => undefined);
      if (info) return { file, size: info.size, mtimeMs: info.mtimeMs };
    }
    return undefined;
  }

  /** Whether the stack was last updated by us to exactly `hash`, and nothing touched it since. */
  async isCurrent(stack: string, hash: string): Promise<boolean> {
    return (await this.status(stack, hash)) === "current";
  }

  /**
   * How the stack's record compares with `hash`: `current` (recorded for exactly this state
   * file), `absent` (no record, or no record kept by this backend), `different` (another hash
   * was recorded) or `stale` (recorded, but the state changed since, or is gone).
   */
  async status(stack: string, hash: string): Promise<DesiredStateStatus> {
    if (!this.backendDir) return "absent";
    let record: Record_;
    try {
      record = JSON.parse(await readFile(this.recordPath(stack), "utf8")) as Record_;
    } catch {
      return "absent";
    }
    if (record.hash !== hash) return "different";
    const state = await this.stateFile(stack);
    const same =
      state !== undefined &&
      state.file === record.state.file &&
      state.size === record.state.size &&
      state.mtimeMs === record.state.mtimeMs;
    return same ? "current" : "stale";
  }

  /**
   * The hash recorded for the stack when its record is still fresh (recorded for exactly the
   * state file there now), else undefined. Whatever the program on disk is now.
   */
  async freshHash(stack: string): Promise<string | undefined> {
    if (!this.backendDir) return undefined;
    try {
      const record = JSON.parse(await readFile(this.recordPath(stack), "utf8")) as Record_;
      return (await this.status(stack, record.hash)) === "current" ? record.hash : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records `hash` for the stack's current state (call right after a successful update). */
  async record(stack: string, hash: string): Promise<void> {
    if (!this.backendDir) return;
    const state = await this.stateFile(stack);
    if (!state) return;
    const path = this.recordPath(stack);
    await mkdir(join(this.backendDir, ".tenancy", "desired-state"), { recursive: true });
    const record: Record_ = { hash, recordedAt: new Date().toISOString(), state };
    await writeFile(`${path}.tmp`, JSON.stringify(record));
    await rename(`${path}.tmp`, path);
  }
}
