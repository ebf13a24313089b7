export {
  type AccessTokenGrant,
  type AccountsClient,
  createAccountsClient,
  type ExchangeGrantCodeInput,
  type RefreshAccessTokenInput,
  type RefreshTokenGrant,
} from './accounts-client';
export {
  type BooksClient,
  type BooksEntity,
  type BooksListResult,
  type BooksOrganization,
  type BooksOrganizationsResult,
  type BooksQuery,
  type BooksRecord,
  type BooksRecordResult,
  type BooksTarget,
  createBooksClient,
  type UniqueFieldKey,
  type UpsertOptions,
} from './books-client';
export {
  CRM_MAX_CHANNEL_TOKEN_LENGTH,
  CRM_MAX_IDS_PER_CALL,
  CRM_MAX_PER_PAGE,
  type CrmClient,
  type CrmRecord,
  type CrmRecordPage,
  type CrmRecordResult,
  type CrmRecordsResult,
  type CrmTarget,
  createCrmClient,
  type DisableNotificationsResult,
  formatCrmDateTime,
  type ModifiedSinceQuery,
  type NotificationChannelRequest,
  type NotificationSubscription,
  type NotificationSubscriptionsResult,
  parseCrmDateTime,
} from './crm-client';
export {
  classifyZohoFailure,
  type FixPlaceholders,
  findErrorEntry,
  getErrorEntry,
  isFallbackEntry,
  type NumberRange,
  renderFix,
  ZOHO_ERROR_TABLE,
  type ZohoErrorEntry,
  type ZohoErrorId,
  type ZohoFailureClassification,
  type ZohoFailureInput,
  type ZohoService,
} from './error-table';
export {
  ERROR_TABLE_MARKERS,
  extractErrorTableBlock,
  renderErrorTableMarkdown,
  replaceErrorTableBlock,
} from './error-table-markdown';
export {
  isZohoApiError,
  type NetworkFailure,
  unreadableResponseError,
  ZohoApiError,
  type ZohoApiErrorInit,
  type ZohoCallContext,
} from './errors';
export {
  MAX_ZOHO_WAIT_SECONDS,
  parseRateLimitHeaders,
  type RateLimitInfo,
} from './rate-limit-headers';
export {
  type ZohoHttpDeps,
  type ZohoHttpMethod,
  type ZohoHttpRequest,
  type ZohoHttpResponse,
  zohoRequest,
} from './zoho-http';
