/** The part of `async-exit-hook` (no bundled types) that ./embeddedPostgres.ts uses. */
declare module "async-exit-hook" {
  interface AsyncExitHook {
    (hook: (done: () => void) => void): void;
    /** Stops handling `event` (a signal name, `exit`, `beforeExit`). */
    unhookEvent(event: string): void;
  }
  const hook: AsyncExitHook;
  export default hook;
}
