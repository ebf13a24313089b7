export {
  createNotificationChannelStore,
  type NotificationChannelStore,
  type StoredChannel,
} from './channel-store';
export {
  type ChannelRenewalResult,
  channelIdFor,
  DEFAULT_CHANNEL_LIFETIME_MS,
  DEFAULT_RENEW_BEFORE_MS,
  NOTIFICATION_EVENTS,
  NOTIFICATION_ROUTE,
  type RenewalReason,
  type RenewChannelsDeps,
  type RenewChannelsOptions,
  type RenewChannelsSummary,
  renewChannels,
} from './renew-channels';
export { createRenewChannelsDeps, type RenewChannelsRuntime } from './renew-channels-deps';
