/**
 * The drift collector over engine events shaped as the engine sends them during a refresh
 * (resourcePreEvent op `refresh`, then resOutputsEvent with the recorded and read states; the
 * real engine's events are exercised by test/engine/refreshDrift.test.ts).
 */
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { differences, driftCollector } from "../../control-plane/runner/driftReport.ts";

const STACK = "urn:pulumi:tenant-acme::tenancy::";

function refreshOf(
  type: string,
  name: string,
  old: Record<string, unknown>,
  next: Record<string, unknown> | undefined,
  op = "same",
): EngineEvent[] {
  const urn = `${STACK}${type}::${name}`;
  const state = (outputs: Record<string, unknown>) => ({ type, urn, custom: true, outputs });
  return [
    {
      sequence: 1,
      timestamp: 0,
      resourcePreEvent: {
        metadata: { op: "refresh", urn, type, old: state(old), provider: "" },
      },
    },
    {
      sequence: 2,
      timestamp: 0,
      resOutputsEvent: {
        metadata: {
          op,
          urn,
          type,
          old: state(old),
          ...(next ? { new: state(next) } : {}),
          provider: "",
        },
      },
    },
  ] as unknown as EngineEvent[];
}

describe("drift report", () => {
  it("names changed properties with both values, ignores observed status, reports deletions", () => {
    const drift = driftCollector("tenant-acme");
    const events = [
      ...refreshOf(
        "kubernetes:core/v1:ResourceQuota",
        "acme-quota",
        {
          spec: { hard: { "limits.cpu": "2" } },
          status: { used: { cpu: "0" } },
          metadata: { resourceVersion: "10", labels: { tier: "pro" } },
          __inputs: { spec: { hard: { "limits.cpu": "2" } } },
        },
        {
          spec: { hard: { "limits.cpu": "8" } },
          status: { used: { cpu: "1" } },
          metadata: { resourceVersion: "11", labels: {} },
          __inputs: { spec: { hard: { "limits.cpu": "8" } } },
        },
      ),
      ...refreshOf(
        "kubernetes:core/v1:Namespace",
        "acme-ns",
        { metadata: { name: "x" } },
        undefined,
        "delete",
      ),
      ...refreshOf(
        "pulumi-nodejs:dynamic/tenancy:TenantDatabase",
        "acme-db",
        { a: 1, __provider: "x" },
        { a: 1, __provider: "y" },
      ),
    ];
    for (const event of events) drift.onEvent(event);
    const report = drift.report();
    expect(report.resources).toBe(3);
    expect(report.drifted).toEqual([
      {
        urn: `${STACK}kubernetes:core/v1:Namespace::acme-ns`,
        type: "kubernetes:core/v1:Namespace",
        name: "acme-ns",
        drift: "deleted",
        properties: [],
      },
      {
        urn: `${STACK}kubernetes:core/v1:ResourceQuota::acme-quota`,
        type: "kubernetes:core/v1:ResourceQuota",
        name: "acme-quota",
        drift: "changed",
        properties: [
          { path: "metadata.labels.tier", state: "pro" },
          { path: 'spec.hard["limits.cpu"]', state: "2", live: "8" },
        ],
      },
    ]);
  });

  it("reports a dynamic resource that still differs from its declaration on every refresh", () => {
    const type = "pulumi-nodejs:dynamic/tenancy:TenantDatabase";
    const urn = `${STACK}${type}::acme-db`;
    const declared = { slug: "acme", quotas: { dbConnections: 12, statementTimeoutMs: 500 } };
    // A second refresh after a role was dropped: the state already records the null quotas.
    const gone = { ...declared, quotas: { dbConnections: null, statementTimeoutMs: null } };
    const state = { type, urn, custom: true, inputs: declared, outputs: gone };
    const drift = driftCollector("tenant-acme");
    drift.onEvent({
      sequence: 1,
      timestamp: 0,
      resourcePreEvent: { metadata: { op: "refresh", urn, type, old: state, provider: "" } },
    } as unknown as EngineEvent);
    drift.onEvent({
      sequence: 2,
      timestamp: 0,
      resOutputsEvent: {
        metadata: { op: "same", urn, type, old: state, new: state, provider: "" },
      },
    } as unknown as EngineEvent);
    expect(drift.report().drifted).toEqual([
      {
        urn,
        type,
        name: "acme-db",
        drift: "changed",
        properties: [
          { path: "quotas.dbConnections", state: 12, live: null },
          { path: "quotas.statementTimeoutMs", state: 500, live: null },
        ],
      },
    ]);
  });

  it("only counts what a refresh read, and not providers", () => {
    const drift = driftCollector("tenant-acme");
    const [, outputs] = refreshOf("kubernetes:core/v1:Namespace", "ns", { a: 1 }, { a: 2 });
    drift.onEvent(outputs!); // an update's outputs, not a refresh
    for (const event of refreshOf("pulumi:providers:kubernetes", "default", { a: 1 }, { a: 2 }))
      drift.onEvent(event);
    expect(drift.report()).toMatchObject({ resources: 0, drifted: [] });
  });

  it("compares arrays item by item and reports added and removed keys", () => {
    expect(differences({ a: [1, 2], b: 1 }, { a: [1, 3], c: 2 })).toEqual([
      { path: "a[1]", state: 2, live: 3 },
      { path: "b", state: 1 },
      { path: "c", live: 2 },
    ]);
    expect(differences({ a: [1] }, { a: [1, 2] })).toEqual([
      { path: "a", state: [1], live: [1, 2] },
    ]);
  });
});
