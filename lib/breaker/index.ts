export type { BreakerState } from './breaker-store';
export { type ConfiguredBreakerDeps, createConfiguredBreaker } from './configured-breaker';
export {
  type Admission,
  type BreakerMessage,
  type BreakerStatus,
  type ConnectionBreaker,
  type ConnectionBreakerDeps,
  createConnectionBreaker,
  DEFAULT_PROBE_LEASE_MS,
  type OutgoingSyncMessage,
  type ProbeVerdict,
  type ResetResult,
  type TripOutcome,
} from './connection-breaker';
export { connectionFingerprint } from './connection-fingerprint';
