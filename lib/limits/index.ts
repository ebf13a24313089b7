export type { CallResult, RequestLimiter, RequestPermit } from './request-limiter';
export { unlimitedLimiter } from './unlimited-limiter';
