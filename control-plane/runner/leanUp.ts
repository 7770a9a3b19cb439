/**
 * `stack.up()` without two of the three engine processes the Automation API starts after the
 * update. Its `up` reads the outputs through `this.outputs()` — `stack output` twice, masked
 * and in plain text, only to tell which outputs are secret — and the summary through
 * `this.info()` — `stack history`. Each is a process that loads the stack's state (~0.15 s
 * here when idle, seconds under load) on every update, a no-op one included.
 *
 * The update runs on a view of the stack (its prototype is the stack, so everything else is
 * the Automation API's own code) whose `outputs()` runs `stack output --json --show-secrets`
 * once — the values; `secret` is not known and reported false — and whose `info()` answers
 * with the resource changes of the update's own summary event.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type {
  EngineEvent,
  OutputMap,
  Stack,
  UpOptions,
  UpResult,
  UpdateSummary,
} from "@pulumi/pulumi/automation/index.js";

const run = promisify(execFile);

export interface EngineCli {
  /** The `pulumi` executable. */
  readonly command: string;
  /** The environment the workspace gives the engine. */
  readonly env: Readonly<Record<string, string>>;
}

export async function leanUp(stack: Stack, opts: UpOptions, cli: EngineCli): Promise<UpResult> {
  let summary: EngineEvent["summaryEvent"];
  const view = Object.create(stack) as Stack;
  view.outputs = () => plainOutputs(stack, cli);
  view.info = async () =>
    ({ resourceChanges: summary?.resourceChanges ?? {}, result: "succeeded" }) as UpdateSummary;
  return view.up({
    ...opts,
    onEvent: (event) => {
      if (event.summaryEvent) summary = event.summaryEvent;
      opts.onEvent?.(event);
    },
  });
}

async function plainOutputs(stack: Stack, cli: EngineCli): Promise<OutputMap> {
  const { stdout } = await run(
    cli.command,
    ["stack", "output", "--json", "--show-secrets", "--non-interactive", "--stack", stack.name],
    { cwd: stack.workspace.workDir, env: { ...process.env, ...cli.env }, maxBuffer: 64 << 20 },
  );
  const values = JSON.parse(stdout) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, { value, secret: false }]),
  );
}
