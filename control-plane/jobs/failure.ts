/**
 * The first resource that failed during an engine run, and the engine's message about it —
 * what an operator needs to read first, instead of only "update failed".
 */
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";

export interface ResourceFailure {
  /** The resource's name (last URN segment). */
  readonly resource: string;
  /** Its type token, e.g. `tenancy:database:TenantDatabase`. */
  readonly type: string;
  readonly urn: string;
  /** The engine's diagnostic, trimmed. */
  readonly message: string;
}

/** Watches engine events; remembers the first error diagnostic that names a resource. */
export function failureWatcher() {
  let first: ResourceFailure | undefined;
  return {
    onEvent(event: EngineEvent): void {
      const diagnostic = event.diagnosticEvent;
      if (first || !diagnostic || diagnostic.severity !== "error" || !diagnostic.urn) return;
      // urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>
      const parts = diagnostic.urn.split("::");
      const name = parts.at(-1) ?? "";
      const typePart = parts.at(-2) ?? "";
      first = {
        resource: name,
        type: typePart.split("$").at(-1) ?? typePart,
        urn: diagnostic.urn,
        message: diagnostic.message.replace(/\s+$/, "").slice(0, 2000),
      };
    },
    get first(): ResourceFailure | undefined {
      return first;
    },
  };
}

/** The tenant's last error: the failing resource first, then the engine's message. */
export function describeFailure(failure: ResourceFailure): string {
  return `${failure.type} "${failure.resource}" failed: ${failure.message}`;
}
