// Re-exports only; one component per file, named after its type token.
export {
  DedicatedNodes,
  nodeIsolationFor,
  type DedicatedNodesArgs,
} from "./compute/dedicatedNodes.ts";
export {
  IsolatedNamespace,
  limitRangeSpec,
  quotaHard,
  type IsolatedNamespaceArgs,
  type NamespaceQuotas,
} from "./compute/isolatedNamespace.ts";
export { PoolRegistration, type PoolRegistrationArgs } from "./compute/poolRegistration.ts";
export { TenantAccount, accountEmail, type TenantAccountArgs } from "./compute/tenantAccount.ts";
export {
  TenantCompute,
  computeParts,
  type ClusterRefs,
  type TenantComputeArgs,
} from "./compute/tenantCompute.ts";
export {
  WorkloadRole,
  accountTrustPolicy,
  serviceAccountTrustPolicy,
  type WorkloadRoleArgs,
  type WorkloadTrust,
} from "./compute/workloadRole.ts";
export { DedicatedDatabase, type DedicatedDatabaseArgs } from "./database/dedicatedDatabase.ts";
export type {
  InDatabaseObjects,
  InDatabaseProvisioner,
  InDatabaseRequest,
  InDatabaseRouting,
} from "./database/inDatabaseProvisioner.ts";
export {
  PostgresServer,
  SERVER_PARAMETERS,
  type PostgresServerArgs,
} from "./database/postgresServer.ts";
export {
  TenantDatabase,
  databasePlacement,
  type DatabaseRouting,
  type TenantDatabaseArgs,
} from "./database/tenantDatabase.ts";
export { SharedUserPool, type SharedUserPoolArgs } from "./identity/sharedUserPool.ts";
export {
  TenantIdentity,
  providerSettings,
  type TenantIdentityArgs,
} from "./identity/tenantIdentity.ts";
export { Platform, POOL_BROKER_SERVICE_ACCOUNT, type PlatformArgs } from "./platform/platform.ts";
export {
  parsePlatformOutputs,
  platformOutputsSchema,
  type PlatformOutputs,
} from "./platform/platformOutputs.ts";
export { EncryptionKey, type EncryptionKeyArgs } from "./security/encryptionKey.ts";
export {
  SecureBucket,
  tlsOnlyBucketPolicy,
  type SecureBucketArgs,
} from "./storage/secureBucket.ts";
export {
  TenantStorage,
  bucketAccessPolicy,
  prefixAccessPolicy,
  type TenantStorageArgs,
} from "./storage/tenantStorage.ts";
export { taggingTransformation, kubernetesLabelsFor } from "./tagging.ts";
export { TARGETS, type Target } from "./target.ts";
export {
  Tenant,
  notProvisionedLayers,
  type TenantArgs,
  type TenantRouting,
} from "./tenant/tenant.ts";
