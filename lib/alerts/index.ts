export {
  type AdminAlert,
  type AlertContext,
  alertCode,
  cliCommand,
  failureHeadline,
  failureLines,
  MAX_SUBJECT_LENGTH,
  renderAdminAlert,
  renderFixText,
  toSnsSubject,
} from './admin-alert';
export {
  type AlertGate,
  type AlertGateDeps,
  type AlertGateResult,
  createAlertGate,
  type RecordAlertRequest,
} from './alert-gate';
export { type AlertPublisher, createAlertPublisher } from './alert-publisher';
export {
  type BreakerClosedInput,
  type BreakerCloseReason,
  type BreakerOpenedContext,
  renderBreakerClosedAlert,
  renderBreakerOpenedAlert,
} from './breaker-alert';
export { renderStormAlert, type StormAlertContext } from './storm-alert';
