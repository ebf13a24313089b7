export {
  type AccessTokenSecretDeps,
  readAccessTokenSecret,
  writeAccessTokenSecret,
} from './access-token-secret';
export {
  type ConnectionAccess,
  type ConnectionAccessRuntime,
  createConnectionAccess,
} from './connection-access';
export {
  type ConnectionStore,
  type ConnectionStoreDeps,
  createConnectionStore,
} from './connection-store';
export { type TokenRefreshDeferReason, TokenRefreshError } from './errors';
export { type ListConnectionIdsDeps, listConnectionIds } from './list-connections';
export { pollDelaysMs } from './poll-delays';
export {
  createRefreshBudget,
  DEFAULT_MAX_REFRESHES_PER_WINDOW,
  REFRESH_WINDOW_MS,
  type RefreshBudget,
  type RefreshBudgetDeps,
  type RefreshReservation,
} from './refresh-budget';
export { createRefreshLease, type RefreshLease, type RefreshLeaseDeps } from './refresh-lease';
export {
  createRefreshStopStore,
  credentialFingerprint,
  type RefreshStop,
  type RefreshStopStore,
  type RefreshStopStoreDeps,
} from './refresh-stop';
export {
  generateWebhookSecret,
  putConnectionSecret,
  putCredentialsSecret,
  readRawCredentials,
  type SetupConnectionDeps,
  type SetupResult,
  setupConnection,
  type WebhookSecretOutcome,
} from './setup-connection';
export {
  createTokenStore,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_WAIT_MS,
  type TokenStore,
  type TokenStoreDeps,
} from './token-store';
export {
  createWebhookSecretStore,
  readWebhookSecret,
  WEBHOOK_SECRET_CACHE_TTL_MS,
  WEBHOOK_SECRET_RECHECK_AFTER_MS,
  type WebhookSecretDeps,
  type WebhookSecretStore,
  type WebhookSecretStoreDeps,
  writeWebhookSecret,
} from './webhook-secret-store';
