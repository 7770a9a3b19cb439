/**
 * Domain errors of stack operations. Engine (CLI) errors are mapped here in one place so
 * callers — the job worker, the HTTP service — never parse engine output themselves.
 */
import {
  CommandError,
  ConcurrentUpdateError,
  StackNotFoundError,
  type PolicyEvent,
} from "@pulumi/pulumi/automation/index.js";
import { EngineCancelled } from "./cancellation.ts";

/**
 * `cancelled`: the caller aborted the operation (SIGINT, then SIGKILL after a grace period);
 * the stack may hold a pending operation that `repairInterrupted` clears before a retry.
 */
export type StackErrorKind = "retryable" | "not-found" | "failed" | "cancelled";

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
  if (error instanceof EngineCancelled)
    return new StackOperationError("cancelled", stack, error.message);
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
  if (UNREACHABLE.test(text)) {
    // A Kubernetes API server (or another endpoint) that is down is worth retrying: the
    // next run resumes from the recorded state.
    return new StackOperationError("retryable", stack, engineReason(text));
  }
  return new StackOperationError("failed", stack, engineReason(text));
}

/** Engine failures caused by an endpoint that did not answer, not by the change itself. */
const UNREACHABLE =
  /cluster is unreachable|connect: connection refused|dial tcp [^\s]+: i\/o timeout|no route to host/i;

/**
 * A failed operation run under policy packs: when mandatory rules were broken, they are the
 * reason (the CLI's own error says only "preview failed" / "update failed").
 */
export function toStackErrorWithPolicies(
  stack: string,
  error: unknown,
  policyEvents: readonly PolicyEvent[],
): StackOperationError {
  const mapped = toStackError(stack, error);
  const mandatory = new Set(
    policyEvents
      .filter((event) => event.enforcementLevel === "mandatory")
      .map((event) => `${event.policyName}: ${violationMessage(event.message)}`),
  );
  if (mapped.kind !== "failed" || mandatory.size === 0) return mapped;
  return new StackOperationError(
    "failed",
    stack,
    `policy violations: ${[...mandatory].join("; ")}`.slice(0, 2000),
  );
}

/** The engine sends a violation as "<policy description>\n<message>": keep the message. */
export function violationMessage(text: string): string {
  const lines = text
    .trim()
    .split("\n")
    .map((line) => line.trim());
  return (lines.length > 1 ? lines.slice(1) : lines).join(" ");
}

/**
 * The useful part of an engine failure: the resource diagnostics (`error: ...` lines) rather
 * than the whole CLI transcript.
 */
export function engineReason(output: string): string {
  const lines = output.split("\n").map((line) => line.trim());
  const errors: string[] = [];
  lines.forEach((line, index) => {
    if (!/^error:/i.test(line) || /update failed$/i.test(line)) return;
    let text = line.replace(/^error:\s*/i, "");
    // Providers written in Go list several causes as "N error(s) occurred:" + "* cause" lines.
    if (/errors? occurred:$/.test(text)) {
      const causes: string[] = [];
      for (const next of lines.slice(index + 1)) {
        if (!next.startsWith("* ")) break;
        causes.push(next.slice(2));
      }
      if (causes.length > 0) text = causes.join("; ");
    }
    errors.push(text);
  });
  const unique = [...new Set(errors)];
  if (unique.length > 0) return unique.join("; ").slice(0, 2000);
  const stderr = /stderr:\s*([\s\S]*)$/.exec(output)?.[1]?.trim();
  return (stderr || output).split("\n").slice(0, 5).join(" ").slice(0, 2000);
}
