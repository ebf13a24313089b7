export { describeFailure, type FailureDescription } from './describe-failure';
export { InvalidSyncMessageError, SyncDataError } from './errors';
