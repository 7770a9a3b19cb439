/**
 * The first resource that failed during an engine run, and the engine's message about it —
 * what an operator needs to read first, instead of only "update failed".
 */
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { violationMessage } from "../runner/errors.ts";

export interface ResourceFailure {
  /** The resource's name (last URN segment). */
  readonly resource: string;
  /** Its type token, e.g. `tenancy:database:TenantDatabase`. */
  readonly type: string;
  readonly urn: string;
  /** The engine's diagnostic, trimmed. */
  readonly message: string;
}

/**
 * Watches engine events; remembers the first error diagnostic that names a resource, or the
 * first mandatory policy violation that does (the engine reports those as policy events, its
 * diagnostics then only say that the update failed).
 */
export function failureWatcher() {
  let first: ResourceFailure | undefined;
  return {
    onEvent(event: EngineEvent): void {
      if (first) return;
      const diagnostic = event.diagnosticEvent;
      if (diagnostic?.severity === "error" && diagnostic.urn) {
        first = failureOf(diagnostic.urn, diagnostic.message);
        return;
      }
      const violation = event.policyEvent;
      if (violation?.enforcementLevel === "mandatory" && violation.resourceUrn) {
        first = failureOf(
          violation.resourceUrn,
          `policy ${violation.policyName}: ${violationMessage(violation.message)}`,
        );
      }
    },
    get first(): ResourceFailure | undefined {
      return first;
    },
  };
}

function failureOf(urn: string, message: string): ResourceFailure {
  // urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>
  const parts = urn.split("::");
  const typePart = parts.at(-2) ?? "";
  return {
    resource: parts.at(-1) ?? "",
    type: typePart.split("$").at(-1) ?? typePart,
    urn,
    message: message.replace(/\s+$/, "").slice(0, 2000),
  };
}

/** The tenant's last error: the failing resource first, then the engine's message. */
export function describeFailure(failure: ResourceFailure): string {
  return `${failure.type} "${failure.resource}" failed: ${failure.message}`;
}
