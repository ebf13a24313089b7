export {
  type BooksEntity,
  CRM_TO_BOOKS,
  SYNCED_CRM_MODULES,
  type SyncedCrmModule,
  toSyncedCrmModule,
} from './crm-modules';
export {
  backoffDelaySeconds,
  type HandleSyncMessageDeps,
  handleSyncMessage,
  type SyncInvocation,
  type SyncOutcome,
} from './handle-sync-message';
export {
  createMappingStore,
  type MappingStore,
  type RecordLease,
  type RecordMapping,
} from './mapping-store';
export { type BatchOutcome, type BatchRecord, prepareSyncBatch } from './sync-batch';
export {
  type LastError,
  type SyncMessage,
  type SyncMessageInput,
  syncMessageSchema,
} from './sync-message';
export {
  disambiguatedName,
  payloadHash,
  type SyncRecordDeps,
  type SyncRecordOptions,
  type SyncResult,
  syncRecord,
} from './sync-record';
export { createSyncWorkerDeps, type RuntimeDeps } from './worker-deps';
export { callZoho, type ZohoCallerDeps, type ZohoService, type ZohoTarget } from './zoho-caller';
