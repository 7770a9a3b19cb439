import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { operatorToken } from "../../control-plane/operatorToken.ts";

describe("the operator token of the local default", () => {
  it("is never shown: its creation names the file and its mode", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenancy-token-"));
    const first = await operatorToken(dir, {});
    expect(first.token).toMatch(/^[0-9a-f]{48}$/);
    expect(first.notice).toBe(
      `operator token: created in ${join(dir, "api-token")} (mode 0600; read it from there, it is not printed)`,
    );
    expect(first.notice).not.toContain(first.token);
    expect((await stat(join(dir, "api-token"))).mode & 0o777).toBe(0o600);
    const second = await operatorToken(dir, {});
    expect(second.token).toBe(first.token);
    expect(second.notice).not.toContain(first.token);
    expect(second.notice).toBe(`operator token: kept in ${join(dir, "api-token")}`);
  });

  it("is never shown when it comes from TENANCY_API_TOKEN", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenancy-token-"));
    const given = await operatorToken(dir, { TENANCY_API_TOKEN: "chosen-secret-token" });
    expect(given.token).toBe("chosen-secret-token");
    expect(given.notice).not.toContain("chosen-secret-token");
  });
});
