/** Bucket arithmetic of the usage series: 5-minute buckets aligned on the epoch, UTC days. */
export const BUCKET_SECONDS = 300;

/** Start of the 5-minute bucket holding `at`. */
export function bucketOf(at: Date, seconds = BUCKET_SECONDS): Date {
  const ms = seconds * 1000;
  return new Date(Math.floor(at.getTime() / ms) * ms);
}

/** `YYYY-MM-DD` of the UTC day holding `at`. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** SQL expression of the 5-minute bucket of a timestamptz expression. */
export function bucketSql(expression: string): string {
  return `date_bin('${BUCKET_SECONDS} seconds', ${expression}, TIMESTAMPTZ '2000-01-01 00:00:00+00')`;
}

/** The counters of one tenant in one 5-minute bucket, as flushed and as stored. */
export interface BucketCounters {
  readonly bucket: Date;
  readonly statements: number;
  readonly statementMicros: number;
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly transactions: number;
  readonly apiCalls: number;
  readonly peakConcurrency: number;
}
