export { describeFailure, type FailureDescription } from './describe-failure';
export { InvalidSyncMessageError, RecordBusyError, SyncDataError } from './errors';
