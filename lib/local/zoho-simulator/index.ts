/**
 * The Zoho simulator's public surface. It is a hand-written HTTP stand-in for Zoho's accounts
 * server, Books v3, CRM v8 reads and CRM's Notification API, because no Zoho emulator exists; see server.ts.
 */
export { CRM_MODULES, type CrmModule } from './crm';
export {
  crmAccount,
  crmContact,
  crmDeal,
  crmProduct,
  crmSalesOrder,
  type SampleLine,
} from './crm-samples';
export { SEEDED_FAULT_KINDS, type SeededFaultKind, type SeededFaultPlan } from './faults';
export { startZohoSimulator } from './server';
export { CRM_ID_FIELD, parseSimulatedMinute } from './state';
export type {
  AccountsStats,
  BooksRecord,
  CallbackDelivery,
  CrmRecord,
  FaultResponse,
  FaultSpec,
  GrantCodeOptions,
  OrganizationStats,
  RequestLogEntry,
  SimulatedClient,
  SimulatedMinute,
  SimulatedNotificationChannel,
  SimulatedOrganization,
  SimulatorStats,
  WindowStats,
  ZohoSimulator,
  ZohoSimulatorOptions,
} from './types';
