/** Free loopback TCP ports for servers the tests start. */
import { createServer } from "node:net";

function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/** A free port (and, with `consecutive`, that many free ports starting at it). */
export async function freePort(options: { readonly consecutive?: number } = {}): Promise<number> {
  const count = options.consecutive ?? 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listenable(0);
    if (first === undefined || first + count > 65535) continue;
    let ok = true;
    for (let i = 1; i < count && ok; i++) ok = (await listenable(first + i)) !== undefined;
    if (ok) return first;
  }
  throw new Error(`no ${count} consecutive free loopback ports found`);
}
