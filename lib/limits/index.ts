export {
  assertTimeZone,
  clampQuotaResetMs,
  QUOTA_RESET_MARGIN_MS,
  type QuotaDay,
  quotaDayAt,
  type RequestWindow,
  requestWindowAt,
} from './budget-calendar';
export { type BudgetSnapshot, readBudgetSnapshot } from './budget-snapshot';
export {
  createRequestLimiter,
  REQUEST_LIMITER_DEFAULTS,
  type RequestLimiterDeps,
} from './create-request-limiter';
export { BudgetExhaustedError, type BudgetKind, isBudgetExhaustedError } from './errors';
export { QUOTA_ALERT_THRESHOLDS, quotaUsedPercent } from './quota-alerts';
export type {
  AcquireOptions,
  CallResult,
  ReleaseOutcome,
  RequestLimiter,
  RequestPermit,
} from './request-limiter';
export { withShare } from './request-limiter';
