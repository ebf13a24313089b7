/**
 * OAuth scope checks. Syntax `service.scope.OPERATION`, OPERATION one of ALL, CREATE, READ,
 * UPDATE, DELETE, where ALL grants every operation (reference zoho-crm-api.md §2).
 */
export type ScopeOperation = 'READ' | 'CREATE' | 'UPDATE' | 'DELETE';

/** Books scope families: items belong to `settings` (reference zoho-books-api.md §1). */
export type BooksScopeFamily = 'contacts' | 'settings' | 'invoices';

const granted = (scope: string): Set<string> =>
  new Set(
    scope
      .split(/[\s,]+/)
      .filter((s) => s !== '')
      .map((s) => s.toLowerCase()),
  );

/** `undefined` scope = the client was registered without scopes: everything is allowed. */
export const allowsBooks = (
  scope: string | undefined,
  family: BooksScopeFamily,
  operation: ScopeOperation,
): boolean => {
  if (scope === undefined) return true;
  const scopes = granted(scope);
  // `ZohoBooks.fullaccess.all` is unconfirmed (reference §1) but widely used; accept it.
  return (
    scopes.has('zohobooks.fullaccess.all') ||
    scopes.has(`zohobooks.${family}.all`) ||
    scopes.has(`zohobooks.${family}.${operation.toLowerCase()}`)
  );
};

/**
 * CRM record reads need `ZohoCRM.modules.ALL|READ` or the per-module form
 * `ZohoCRM.modules.<module>.ALL|READ`, where <module> is the API name in lower case without
 * underscores (`salesorders`), as in the reference's scope table.
 */
export const allowsCrmRead = (scope: string | undefined, module: string): boolean => {
  if (scope === undefined) return true;
  const scopes = granted(scope);
  const m = module.toLowerCase().replaceAll('_', '');
  return (
    scopes.has('zohocrm.modules.all') ||
    scopes.has('zohocrm.modules.read') ||
    scopes.has(`zohocrm.modules.${m}.all`) ||
    scopes.has(`zohocrm.modules.${m}.read`)
  );
};

/**
 * Notification API calls need `ZohoCRM.notifications.ALL` (OAS notifications.json `security`) or
 * the operation's own form: READ for GET, CREATE for POST, UPDATE (or WRITE) for PUT/PATCH,
 * DELETE for DELETE. The reference names these sub-operations (§2); which one each method needs
 * is our reading, unconfirmed.
 */
export const allowsCrmNotifications = (
  scope: string | undefined,
  operation: ScopeOperation,
): boolean => {
  if (scope === undefined) return true;
  const scopes = granted(scope);
  const op = operation.toLowerCase();
  return (
    scopes.has('zohocrm.notifications.all') ||
    scopes.has(`zohocrm.notifications.${op}`) ||
    (operation === 'UPDATE' && scopes.has('zohocrm.notifications.write'))
  );
};
