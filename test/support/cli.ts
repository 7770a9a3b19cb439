/**
 * The `tenancy` CLI against a test control plane, in this process: `tenancy <argv> --url
 * <plane>` with the plane's operator token in TENANCY_API_TOKEN (restored afterwards).
 */
import { main } from "../../cli/main.ts";
import type { TestControlPlane } from "./controlPlane.ts";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(
  plane: Pick<TestControlPlane, "baseUrl" | "token">,
  argv: readonly string[],
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const previous = process.env.TENANCY_API_TOKEN;
  process.env.TENANCY_API_TOKEN = plane.token;
  try {
    const code = await main([...argv, "--url", plane.baseUrl], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
    });
    return { code, stdout, stderr };
  } finally {
    if (previous === undefined) delete process.env.TENANCY_API_TOKEN;
    else process.env.TENANCY_API_TOKEN = previous;
  }
}
