export { type AwsClients, type AwsClientsOptions, createAwsClients } from './clients';
export {
  clampDelaySeconds,
  MAX_SQS_DELAY_SECONDS,
  type QueuedMessage,
  sendQueueMessage,
  sendQueueMessages,
} from './sync-queue';
export {
  type ParkingShelf,
  parkingShelfPk,
  TABLE_KEY,
  type TableKey,
  tableKeys,
  toKeyAttributes,
  ttlAttribute,
} from './table-keys';
