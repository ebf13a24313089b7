export { describeFailure, type FailureDescription } from './describe-failure';
export {
  InvalidSyncMessageError,
  InvocationDeadlineError,
  RecordBusyError,
  SyncDataError,
} from './errors';
