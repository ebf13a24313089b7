/** Small readers for loosely typed CRM records (field sets differ per org and layout). */
export type CrmRecord = Readonly<Record<string, unknown>>;

export const text = (record: CrmRecord, field: string): string | undefined => {
  const value = record[field];
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
};

export const amount = (record: CrmRecord, field: string): number | undefined => {
  const value = record[field];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
};

/** A lookup field such as `Account_Name: { id, name }`. */
export const lookup = (
  record: CrmRecord,
  field: string,
): { id: string; name: string | undefined } | undefined => {
  const value = record[field];
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, name } = value as { id?: unknown; name?: unknown };
  if (typeof id !== 'string' && typeof id !== 'number') return undefined;
  return { id: String(id), name: typeof name === 'string' ? name : undefined };
};

/** Drops undefined values so Books never receives `"field": null` for an empty CRM field. */
export const compact = <T extends Record<string, unknown>>(value: T): Partial<T> =>
  Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as Partial<T>;

export const CRM_ID_CUSTOM_FIELD = 'cf_crm_id';

export const crmIdCustomField = (crmRecordId: string): { api_name: string; value: string } => ({
  api_name: CRM_ID_CUSTOM_FIELD,
  value: crmRecordId,
});
