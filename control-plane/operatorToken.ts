/**
 * The operator token of the local default: from TENANCY_API_TOKEN, or generated once and kept
 * (0600) in the state dir. It is never printed: the start that creates it says where the
 * file is and its mode, later starts say where it is kept, so no log ever holds the token.
 */
import { join } from "node:path";
import { keepSecret } from "./keptSecret.ts";

export interface OperatorToken {
  readonly token: string;
  /** One line for the start-up log. */
  readonly notice: string;
}

export async function operatorToken(
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OperatorToken> {
  if (env.TENANCY_API_TOKEN) {
    return { token: env.TENANCY_API_TOKEN, notice: "operator token: from TENANCY_API_TOKEN" };
  }
  const file = join(stateDir, "api-token");
  const { value, created } = await keepSecret(file);
  return {
    token: value,
    notice: created
      ? `operator token: created in ${file} (mode 0600; read it from there, it is not printed)`
      : `operator token: kept in ${file}`,
  };
}
