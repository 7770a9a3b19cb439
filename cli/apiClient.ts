/**
 * The CLI's client of a running control plane: URL from --url, TENANCY_API_URL or the local
 * default; token from TENANCY_API_TOKEN or the local default's kept token file. Problems
 * (problem+json) become one-line errors with their reason.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { STATE_DIR } from "../control-plane/localDefaults.ts";

export interface ApiClient {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** The server-sent events of `path` (an operation's events), until the server ends them. */
  events(path: string): AsyncIterable<{ type: string; data: unknown }>;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    detail: string,
  ) {
    super(`${detail} (${status} ${reason})`);
  }
}

export async function apiClient(url: string | undefined): Promise<ApiClient> {
  const base = (url ?? process.env.TENANCY_API_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
  const token =
    process.env.TENANCY_API_TOKEN ??
    (await readFile(join(STATE_DIR, "state", "api-token"), "utf8").then(
      (text) => text.trim(),
      () => {
        throw new Error(
          `no operator token: set TENANCY_API_TOKEN, or run where \`tenancy serve\` keeps it (${join(STATE_DIR, "state", "api-token")}; TENANCY_STATE_DIR)`,
        );
      },
    ));
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }).catch((error: Error) => {
        throw new Error(`cannot reach the control plane at ${base}: ${error.message}`);
      });
      const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok) {
        const text = (value: unknown) => (typeof value === "string" ? value : undefined);
        throw new ApiProblem(
          response.status,
          text(payload.reason) ?? "error",
          text(payload.detail) ?? text(payload.title) ?? response.statusText,
        );
      }
      return payload as T;
    },
    async *events(path: string) {
      const response = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
      }).catch((error: Error) => {
        throw new Error(`cannot reach the control plane at ${base}: ${error.message}`);
      });
      if (!response.ok || !response.body) {
        throw new ApiProblem(response.status, "error", `cannot follow ${path}`);
      }
      const decoder = new TextDecoder();
      let buffer = "";
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type && data !== undefined) yield { type, data: JSON.parse(data) as unknown };
        }
      }
    },
  };
}
