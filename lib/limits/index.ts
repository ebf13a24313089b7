export {
  assertTimeZone,
  type QuotaDay,
  quotaDayAt,
  type RequestWindow,
  requestWindowAt,
} from './budget-calendar';
export {
  createRequestLimiter,
  REQUEST_LIMITER_DEFAULTS,
  type RequestLimiterDeps,
} from './create-request-limiter';
export { BudgetExhaustedError, type BudgetKind, isBudgetExhaustedError } from './errors';
export {
  createParkedWorkStore,
  type ParkedMessage,
  type ParkedWorkStore,
  type ParkedWorkStoreDeps,
} from './parked-work';
export { QUOTA_ALERT_THRESHOLDS, quotaUsedPercent } from './quota-alerts';
export {
  type ReleaseParkedWorkDeps,
  type ReleaseParkedWorkResult,
  releaseParkedWork,
} from './release-parked-work';
export type {
  CallResult,
  ReleaseOutcome,
  RequestLimiter,
  RequestPermit,
} from './request-limiter';
export { unlimitedLimiter } from './unlimited-limiter';
