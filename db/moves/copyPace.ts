/**
 * How a move's copy shares the server: after each batch the mover waits `pace` times the
 * batch's own duration, so it copies 1 / (pace + 1) of the time. A module of its own so the
 * CLI's usage texts can name the default without loading the mover.
 *
 * The default is 8 (a ninth of the time): in bench/move.ts (1M rows, idle 2-core machine) the
 * other pooled tenant's p95 during pool → schema was 0.90×–1.10× of its baseline at 8 (three
 * runs) and 1.03×–1.39× at 4; see the README's "Where the neighbour's time went".
 */
export const DEFAULT_COPY_PACE = 8;

/** The largest pace accepted (a copy working 1 % of the time). */
export const MAX_COPY_PACE = 100;

/** A pace written as text (`--copy-pace`, `--move-pace`, TENANCY_MOVE_PACE), or undefined when it is not one. */
export function copyPaceFrom(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
  const pace = Number(text);
  return pace <= MAX_COPY_PACE ? pace : undefined;
}
