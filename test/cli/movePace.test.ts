/**
 * `tenancy serve|worker --move-pace N` (or TENANCY_MOVE_PACE): how tier moves yield the
 * server to other tenants. A number from 0 to 100; nothing means the library's default;
 * anything else is a usage error naming the flag and the value.
 */
import { describe, expect, it } from "vitest";
import { movePace } from "../../cli/serveCommand.ts";
import { UsageError } from "../../cli/io.ts";

describe("--move-pace", () => {
  it("takes 0 to 100, leaves the default to the mover when absent, refuses anything else", () => {
    expect(movePace(undefined)).toBeUndefined();
    expect(movePace("")).toBeUndefined();
    expect(movePace("0")).toBe(0);
    expect(movePace("4")).toBe(4);
    expect(movePace("2.5")).toBe(2.5);
    expect(movePace("100")).toBe(100);
    for (const bad of ["-1", "101", "fast", "4x", "NaN", "1e3"]) {
      expect(() => movePace(bad), bad).toThrow(UsageError);
      expect(() => movePace(bad), bad).toThrow(
        `--move-pace (or TENANCY_MOVE_PACE) must be a number from 0 to 100, got "${bad}"`,
      );
    }
  });
});
