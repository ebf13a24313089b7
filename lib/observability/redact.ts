/**
 * Scrubs credentials from text before it reaches a log line, an error message or an alert.
 *
 * Two layers, because neither alone is enough: patterns catch Zoho-shaped tokens and
 * credential-bearing fields we have never seen, and the registry catches the exact values this
 * container has loaded (a simulator or a rotated secret need not look like a Zoho token).
 * Written by hand: Powertools Logger has no redaction feature, only a JSON replacer hook,
 * which lib/observability/logger.ts wires to this function.
 */
const REDACTED = '[REDACTED]';

const knownSecretValues = new Set<string>();

/** Registers values (access/refresh tokens, client secrets, webhook secrets) to scrub. */
export const registerSecretValues = (...values: ReadonlyArray<string | undefined>): void => {
  for (const value of values) {
    // Very short values would redact ordinary words; real credentials are long.
    if (value !== undefined && value.length >= 8) knownSecretValues.add(value);
  }
};

const SECRET_PATTERNS: readonly RegExp[] = [
  // Zoho access and refresh tokens: 1000.<hex>.<hex>
  /\b1000\.[0-9a-f]{16,}\.[0-9a-f]{16,}\b/gi,
  /(Zoho-oauthtoken|Bearer)\s+[^\s"',]+/gi,
  /\b(access_token|refresh_token|client_secret|code|token)=([^&\s"']+)/gi,
  /"(access_token|refresh_token|client_secret|accessToken|refreshToken|clientSecret|webhookSecret|token)"\s*:\s*"[^"]*"/gi,
];

/** Returns `text` with every known secret value and credential-shaped substring replaced. */
export const redact = (text: string): string => {
  let result = text;
  for (const value of knownSecretValues) {
    if (result.includes(value)) result = result.split(value).join(REDACTED);
  }
  for (const pattern of SECRET_PATTERNS) {
    result = result.replace(pattern, (match, ...groups: unknown[]) => {
      const field = groups[0];
      if (typeof field !== 'string') return REDACTED;
      if (match.startsWith('"')) return `"${field}":"${REDACTED}"`;
      if (match.includes('=')) return `${field}=${REDACTED}`;
      return `${field} ${REDACTED}`;
    });
  }
  return result;
};

const SECRET_KEY_PATTERN =
  /^(authorization|access_?token|refresh_?token|client_?secret|webhook_?secret|token|password)$/i;

/** A JSON replacer that drops credential-named keys and redacts every string value. */
export const redactingJsonReplacer = (key: string, value: unknown): unknown => {
  if (SECRET_KEY_PATTERN.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string') return redact(value);
  return value;
};
