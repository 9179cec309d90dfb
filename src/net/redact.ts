/**
 * Secret scrubbing shared by every HTTP client (Quo, HubSpot): text that may echo a request (an
 * error body, a message) passes through here before it is kept or shown.
 */

/** Replaces every occurrence of any of `secrets` in `text`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== "") out = out.split(secret).join("[redacted]");
  }
  return out;
}
