/** The PostgreSQL isolation layer: public API, re-exported by name. */
export { auditDatabase, formatFinding } from "./audit.ts";
export type { AuditFinding, AuditOptions, AuditReport, FindingCode } from "./audit.ts";
export { bootstrapDatabase } from "./bootstrap.ts";
export type { BootstrapOptions, BootstrapResult } from "./bootstrap.ts";
export { DB_USAGE, runDbCommand } from "./cli.ts";
export type { DbCommandIo } from "./cli.ts";
export { TENANT_CONTEXT_SETTING, TENANT_POLICY_NAME } from "./contextSql.ts";
export {
  ContextSigningError,
  TENANT_SIGNATURE_SETTING,
  signTenantContext,
} from "./contextSigning.ts";
export type { ContextSigningKey } from "./contextSigning.ts";
export {
  SignedContextDisabledError,
  listContextKeyIds,
  putContextKey,
  removeContextKey,
} from "./contextKeys.ts";
export * from "./drivers/index.ts";
export {
  DEFAULT_DATABASE_PREFIX,
  DEFAULT_ROLE_PREFIX,
  DEFAULT_SHARED_SCHEMA,
  PLATFORM_SCHEMA,
  managedRoles,
  quoteIdent,
  quoteLiteral,
  tenantDatabaseName,
  tenantRoleName,
  tenantSchemaName,
} from "./identifiers.ts";
export type { ManagedRoles } from "./identifiers.ts";
export { migrateAll, discoverMigrationTargets } from "./migrations/migrateAll.ts";
export type { MigrateAllOptions } from "./migrations/migrateAll.ts";
export { migrateSchemas } from "./migrations/migrateSchemas.ts";
export type { MigrateSummary, SchemaResult } from "./migrations/migrateSchemas.ts";
export {
  DEFAULT_MIGRATIONS_DIR,
  defineMigrations,
  loadMigrationDirectory,
} from "./migrations/migrationSet.ts";
export type { TenantMigration } from "./migrations/migrationSet.ts";
export { protectDatabase, protectTables } from "./protect.ts";
export type { ProtectOptions, ProtectReport, ProtectedTable } from "./protect.ts";
export { purgeTenant } from "./purge.ts";
export type { PurgeOptions, PurgeReport, PurgedObject, PurgedTable } from "./purge.ts";
export { findTenant, listTenants } from "./registry.ts";
export type { RegistryRow } from "./registry.ts";
export { connectionSettingsFor, connectionStringFor } from "./routing.ts";
export type { TenantConnectionSettings } from "./routing.ts";
export { TenantTransactionAbortedError, withTenant } from "./tenantContext.ts";
export type { WithTenantOptions } from "./tenantContext.ts";
export { createUsageRecorder } from "./usage/usageRecorder.ts";
export type { TenantCounters, UsageRecorder, UsageRecorderOptions } from "./usage/usageRecorder.ts";
export { TENANT_APPLICATION_NAME_PREFIX, USAGE_FLUSH_TABLE } from "./usage/usageSql.ts";
