export { type AwsClients, type AwsClientsOptions, createAwsClients } from './clients';
export { TABLE_KEY, type TableKey, tableKeys, toKeyAttributes, ttlAttribute } from './table-keys';
