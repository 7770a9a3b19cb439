/**
 * The claim protocol over one database's `tenancy.usage_flush` (the shared database, or a
 * dedicated tenant's own): claims an earlier cycle already applied are deleted; the others
 * (an interrupted cycle's) and a new claim of every unclaimed row are read, to be applied once.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import {
  claimedCounters,
  claimFlushed,
  deleteClaims,
  openClaims,
  type ClaimedCounters,
} from "./sharedSources.ts";
import { appliedClaims } from "./usageWrite.ts";

export interface ClaimedFlushes {
  /** Claims to apply (each recorded in the control database with its counters, once). */
  readonly claims: string[];
  readonly counters: ClaimedCounters[];
  /** Rows this cycle claimed. */
  readonly claimedRows: number;
}

export async function claimFlushes(
  db: pg.ClientBase,
  control: Pick<pg.ClientBase, "query">,
  afterClaim?: () => Promise<void>,
): Promise<ClaimedFlushes> {
  const open = await openClaims(db);
  const done = await appliedClaims(control, open);
  await deleteClaims(
    db,
    open.filter((claim) => done.has(claim)),
  );
  const claim = randomUUID();
  const claimedRows = await claimFlushed(db, claim);
  await afterClaim?.();
  const claims = [...open.filter((c) => !done.has(c)), ...(claimedRows > 0 ? [claim] : [])];
  return { claims, counters: await claimedCounters(db, claims), claimedRows };
}
