/**
 * The load of bench/move.ts: a writer of the moving tenant (through the tenant router, so it
 * follows the move) that records every acknowledged write, and a neighbour tenant's loop that
 * records the latency of each of its transactions with the phase it ran in.
 */
import type pg from "pg";
import type { TenantRouter } from "../db/tenantRouter.ts";
import { withTenant } from "../db/tenantContext.ts";

/** What one acknowledged (committed) transaction of the moving tenant wrote. */
export interface AcknowledgedWrite {
  readonly at: number;
  readonly project: string;
  readonly updatedTask: string;
  readonly title: string;
  readonly comment: string;
}

export interface MovingWriter {
  readonly acknowledged: AcknowledgedWrite[];
  /** Error counts by SQLSTATE (TN001 fence, TN002 moved; anything else is a defect). */
  readonly errors: Map<string, number>;
  readonly unexpected: string[];
  /** Longest gap between two acknowledged writes within [from, to] (ms). */
  longestGap(from: number, to: number): { ms: number; endedAt: number };
  stop(): Promise<void>;
}

/**
 * Each transaction inserts a project and a task under it, updates one of the seeded tasks
 * (the title names the write) and inserts a comment on it. `paceMs` between transactions.
 */
export function startMovingWriter(
  router: TenantRouter,
  slug: string,
  seededTasks: readonly string[],
  paceMs: number,
): MovingWriter {
  const acknowledged: AcknowledgedWrite[] = [];
  const errors = new Map<string, number>();
  const unexpected: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i += 1) {
      const project = `w-${i}`;
      const updatedTask = seededTasks[i % seededTasks.length]!;
      const title = `upd-${i}`;
      try {
        const comment = await router.withTenant(slug, async (c) => {
          const p = await c.query<{ id: string }>(
            "INSERT INTO projects (name) VALUES ($1) RETURNING id",
            [project],
          );
          await c.query("INSERT INTO tasks (project_id, title) VALUES ($1, 'new')", [
            p.rows[0]!.id,
          ]);
          await c.query("UPDATE tasks SET title = $2 WHERE id = $1", [updatedTask, title]);
          const inserted = await c.query<{ id: string }>(
            "INSERT INTO comments (task_id, body) VALUES ($1, $2) RETURNING id::text",
            [updatedTask, title],
          );
          return inserted.rows[0]!.id;
        });
        acknowledged.push({ at: performance.now(), project, updatedTask, title, comment });
      } catch (error) {
        const code = (error as { code?: string }).code ?? "none";
        errors.set(code, (errors.get(code) ?? 0) + 1);
        if (code !== "TN001" && code !== "TN002") unexpected.push(`${code} ${String(error)}`);
        await sleep(20);
      }
      if (paceMs > 0) await sleep(paceMs);
    }
  })();
  return {
    acknowledged,
    errors,
    unexpected,
    longestGap(from, to) {
      let previous = from;
      let longest = { ms: 0, endedAt: from };
      for (const write of acknowledged) {
        if (write.at < from) continue;
        if (write.at > to) break;
        if (write.at - previous > longest.ms)
          longest = { ms: write.at - previous, endedAt: write.at };
        previous = write.at;
      }
      return longest;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

export interface NeighbourLoad {
  /** Sets the label of the samples from now on. */
  phase(name: string): void;
  samples(name: string): number[];
  /** The samples of every label that starts with `prefix`, in label order of first use. */
  samplesUnder(prefix: string): number[];
  readonly errors: string[];
  stop(): Promise<void>;
}

/**
 * The other tenant (pooled, the application role): each transaction reads a project's tasks,
 * updates one and inserts a comment — `clients` loops, no pause.
 */
export function startNeighbour(
  pool: pg.Pool,
  tenantId: string,
  tasks: readonly { id: string; project: string }[],
  clients: number,
): NeighbourLoad {
  const byPhase = new Map<string, number[]>();
  const errors: string[] = [];
  let current = "warm-up";
  let running = true;
  const loop = async (offset: number) => {
    for (let i = offset; running; i += clients) {
      const task = tasks[(i * 7919) % tasks.length]!;
      const phase = current;
      const started = performance.now();
      try {
        await withTenant(pool, tenantId, async (c) => {
          await c.query("SELECT id, title FROM tasks WHERE project_id = $1", [task.project]);
          await c.query("UPDATE tasks SET done = NOT done WHERE id = $1", [task.id]);
          await c.query("INSERT INTO comments (task_id, body) VALUES ($1, 'n')", [task.id]);
        });
        const list = byPhase.get(phase) ?? [];
        list.push(performance.now() - started);
        byPhase.set(phase, list);
      } catch (error) {
        errors.push(String(error));
        await sleep(20);
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, k) => loop(k));
  return {
    phase(name) {
      current = name;
    },
    samples: (name) => byPhase.get(name) ?? [],
    samplesUnder: (prefix) =>
      [...byPhase].filter(([name]) => name.startsWith(prefix)).flatMap(([, list]) => list),
    errors,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
