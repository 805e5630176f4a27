/**
 * What the notifier may say about its endpoints. Webhook URLs often are the secret (a Home Assistant webhook id or
 * a chat hook token lives in the path), MQTT and webhook URLs may carry user:password, and error texts from
 * libraries sometimes quote the URL they failed on: so logs name an endpoint by scheme://host:port only, and every
 * error text is scrubbed of the configured secrets before it is logged.
 */

/** `https://user:pw@hooks.example:8443/api/webhook/SECRET?token=X` -> `https://hooks.example:8443`. */
export function safeOrigin(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '<invalid url>';
  }
}

/** Replaces every occurrence of the given secrets (and their URL-encoded forms) in a text. */
export function scrubSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let scrubbed = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) scrubbed = scrubbed.split(form).join('***');
  }
  return scrubbed;
}

/** The parts of a URL that may be secret: userinfo, path, query and the whole URL itself. */
export function urlSecrets(url: string): string[] {
  try {
    const parsed = new URL(url);
    const parts = [url, parsed.username, parsed.password, parsed.search.slice(1)];
    if (parsed.pathname !== '/') parts.push(parsed.pathname);
    return parts.filter((part) => part.length > 0).flatMap((part) => [part, safeDecode(part)]);
  } catch {
    return [url];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
