/**
 * Domain errors of stack operations. Engine (CLI) errors are mapped here in one place so
 * callers — the job worker, the HTTP service — never parse engine output themselves.
 */
import {
  CommandError,
  ConcurrentUpdateError,
  StackNotFoundError,
} from "@pulumi/pulumi/automation/index.js";

export type StackErrorKind = "retryable" | "not-found" | "failed";

export class StackOperationError extends Error {
  constructor(
    readonly kind: StackErrorKind,
    readonly stackName: string,
    /** The engine's reason, cleaned of progress noise: what a person should read. */
    readonly reason: string,
  ) {
    super(`${stackName}: ${reason}`);
    this.name = "StackOperationError";
  }

  get retryable(): boolean {
    return this.kind === "retryable";
  }
}

/** Maps whatever the Automation API threw into a StackOperationError. */
export function toStackError(stack: string, error: unknown): StackOperationError {
  if (error instanceof StackOperationError) return error;
  if (error instanceof ConcurrentUpdateError) {
    return new StackOperationError(
      "retryable",
      stack,
      "another update of this stack is in progress",
    );
  }
  if (error instanceof StackNotFoundError) {
    return new StackOperationError("not-found", stack, "stack does not exist");
  }
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof CommandError && /\[409\] Conflict|currently locked|lock file/i.test(text)) {
    return new StackOperationError("retryable", stack, "stack is locked by another update");
  }
  return new StackOperationError("failed", stack, engineReason(text));
}

/**
 * The useful part of an engine failure: the resource diagnostics (`error: ...` lines) rather
 * than the whole CLI transcript.
 */
export function engineReason(output: string): string {
  const lines = output.split("\n").map((line) => line.trim());
  const errors = lines
    .filter((line) => /^error:/i.test(line) && !/update failed$/i.test(line))
    .map((line) => line.replace(/^error:\s*/i, ""));
  const unique = [...new Set(errors)];
  if (unique.length > 0) return unique.join("; ").slice(0, 2000);
  const stderr = /stderr:\s*([\s\S]*)$/.exec(output)?.[1]?.trim();
  return (stderr || output).split("\n").slice(0, 5).join(" ").slice(0, 2000);
}
