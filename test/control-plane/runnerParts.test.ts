import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { ConcurrentUpdateError, StackNotFoundError } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { engineReason, toStackError } from "../../control-plane/runner/errors.ts";
import { KeyedMutex } from "../../control-plane/runner/keyedMutex.ts";
import {
  changedPaths,
  PreviewCollector,
  previewMarkdown,
} from "../../control-plane/runner/previewSummary.ts";

function step(
  op: string,
  type: string,
  name: string,
  detailedDiff?: Record<string, unknown>,
): EngineEvent {
  return {
    sequence: 0,
    timestamp: 0,
    resourcePreEvent: {
      metadata: {
        op,
        type,
        urn: `urn:pulumi:tenant-acme::tenancy::${type}::${name}`,
        provider: "",
        ...(detailedDiff ? { detailedDiff } : {}),
      },
    },
  } as unknown as EngineEvent;
}

describe("PreviewCollector", () => {
  it("counts changes per kind with the changed properties, ignoring the stack and providers", () => {
    const collector = new PreviewCollector();
    for (const event of [
      step("same", "pulumi:pulumi:Stack", "tenancy-tenant-acme"),
      step("create", "pulumi:providers:aws", "default"),
      step("update", "pulumi-nodejs:dynamic:Resource", "acme-db", {
        "quotas.dbConnections": { diffKind: "update", inputDiff: true },
      }),
      step("create", "aws:s3/bucketV2:BucketV2", "acme-bucket"),
      step("same", "kubernetes:core/v1:Namespace", "acme-ns"),
      step("replace", "aws:rds/instance:Instance", "acme-rds", {
        engine: { diffKind: "update-replace", inputDiff: true },
      }),
      step("delete", "aws:iam/role:Role", "acme-old"),
    ]) {
      collector.onEvent(event);
    }
    const summary = collector.summary("acme", "tenant-acme");
    expect(summary.counts).toEqual({ create: 1, update: 1, replace: 1, delete: 1, same: 1 });
    expect(summary.changes).toEqual([
      { kind: "create", type: "aws:s3/bucketV2:BucketV2", name: "acme-bucket", properties: [] },
      { kind: "delete", type: "aws:iam/role:Role", name: "acme-old", properties: [] },
      {
        kind: "replace",
        type: "aws:rds/instance:Instance",
        name: "acme-rds",
        properties: ["engine"],
      },
      {
        kind: "update",
        type: "pulumi-nodejs:dynamic:Resource",
        name: "acme-db",
        properties: ["quotas.dbConnections"],
      },
    ]);
    const markdown = previewMarkdown([
      summary,
      new PreviewCollector().summary("quiet", "tenant-quiet"),
    ]);
    expect(markdown).toContain("| `acme` | 1 | 1 | 1 | 1 | 1 |");
    expect(markdown).toContain("| `quiet` | 0 | 0 | 0 | 0 | 0 |");
    expect(markdown).toContain(
      "**update** `pulumi-nodejs:dynamic:Resource` `acme-db` — `quotas.dbConnections`",
    );
    expect(markdown).not.toContain("<code>quiet</code>");
  });
});

describe("changedPaths", () => {
  it("names the changed leaves, ignoring engine markers, treating secrets as opaque", () => {
    const secret = (v: string) => ({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: v,
    });
    expect(
      changedPaths(
        {
          slug: "a",
          quotas: { dbConnections: 5, statementTimeoutMs: 10 },
          adminUrl: secret("x"),
          __provider: "p1",
        },
        {
          slug: "a",
          quotas: { dbConnections: 9, statementTimeoutMs: 10 },
          adminUrl: secret("x"),
          __provider: "p2",
        },
      ),
    ).toEqual(["quotas.dbConnections"]);
    expect(changedPaths({ adminUrl: secret("x") }, { adminUrl: secret("y") })).toEqual([
      "adminUrl",
    ]);
  });
});

describe("engine error mapping", () => {
  const commandResult = { stdout: "", stderr: "", code: 255, err: undefined };
  it.each([
    [new ConcurrentUpdateError(commandResult as never), "retryable"],
    [new StackNotFoundError(commandResult as never), "not-found"],
    [new Error("error: resource acme-db failed: role already exists"), "failed"],
  ])("%s → %s", (error, kind) => {
    expect(toStackError("tenant-acme", error).kind).toBe(kind);
  });

  it("keeps the resource diagnostics, not the transcript", () => {
    const output = [
      "Updating (tenant-acme):",
      "  pulumi:pulumi:Stack tenancy-tenant-acme  running",
      "error: update failed",
      "  error: acme-db: connection limit must be positive",
      "Resources: 1 unchanged",
    ].join("\n");
    expect(engineReason(output)).toBe("acme-db: connection limit must be positive");
  });

  it('keeps the causes a Go provider lists under "1 error occurred:"', () => {
    const output = [
      "  kubernetes:core/v1:ResourceQuota (tenant-acme-quota):",
      "    error: 1 error occurred:",
      '    \t* resourcequotas "tenancy-quota" is forbidden: at most 16 CPUs (cluster cap)',
      "Resources: 1 unchanged",
    ].join("\n");
    expect(engineReason(output)).toBe(
      'resourcequotas "tenancy-quota" is forbidden: at most 16 CPUs (cluster cap)',
    );
  });
});

describe("KeyedMutex", () => {
  it("serializes one key and runs different keys in parallel", async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (key: string, id: string, ms: number) =>
      mutex.run(key, async () => {
        log.push(`start ${id}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${id}`);
      });
    await Promise.all([task("a", "a1", 30), task("a", "a2", 1), task("b", "b1", 10)]);
    expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
    expect(log.indexOf("start b1")).toBeLessThan(log.indexOf("end a1"));
  });

  it("a failure does not block the next task of the key", async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run("a", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(mutex.run("a", () => Promise.resolve(42))).resolves.toBe(42);
    expect(mutex.busyKeys).toEqual([]);
  });
});
