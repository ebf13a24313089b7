export {
  type AdminAlert,
  type AlertContext,
  MAX_SUBJECT_LENGTH,
  renderAdminAlert,
  toSnsSubject,
} from './admin-alert';
export { type AlertPublisher, createAlertPublisher } from './alert-publisher';
