/** Every RDS instance is encrypted with a customer key, deletion-protected and backed up. */
import type { Subject } from "../subject.ts";

export function databaseProtectionViolations(subject: Subject): string[] {
  if (subject.type !== "aws:rds/instance:Instance") return [];
  const p = subject.props;
  const problems: string[] = [];
  if (p["storageEncrypted"] !== true) problems.push("storage is not encrypted");
  if (typeof p["kmsKeyId"] !== "string" || p["kmsKeyId"] === "") {
    problems.push("no customer-managed KMS key (kmsKeyId)");
  }
  if (p["deletionProtection"] !== true) problems.push("deletion protection is off");
  if (p["skipFinalSnapshot"] === true || typeof p["finalSnapshotIdentifier"] !== "string") {
    problems.push("no final snapshot on deletion");
  }
  if (typeof p["backupRetentionPeriod"] !== "number" || p["backupRetentionPeriod"] < 1) {
    problems.push("automated backups are off");
  }
  return problems;
}
