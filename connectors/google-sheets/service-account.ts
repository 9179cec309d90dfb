/**
 * Loading a Google service-account key file (the JSON the Cloud console downloads under "IAM →
 * Service accounts → Keys"). The private key never leaves this object in a message.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { SourceError } from "../../src/errors.js";

/** The parts of a key file the JWT needs. */
export interface ServiceAccountKey {
  /** The service account's address: what the sheet must be shared with. */
  clientEmail: string;
  privateKey: string;
  privateKeyId?: string;
  /** Where the file was found — the setting and the path it resolved to — for messages. */
  source: string;
}

/**
 * Reads the key file from `credentials` (resolved against `baseDir`, the config file's folder) or
 * else from `GOOGLE_APPLICATION_CREDENTIALS` in `env` (resolved against the working directory, as
 * Google's own libraries read it). Throws `SourceError` when neither is set, or the file is
 * missing, unreadable, not JSON, or not a service-account key; the message names the setting and
 * the resolved file, and never quotes its content.
 */
export async function loadServiceAccountKey(credentials: string | undefined, baseDir: string, env: NodeJS.ProcessEnv): Promise<ServiceAccountKey> {
  const configured = credentials ?? env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!configured) {
    throw new SourceError("no Google service-account key: set GOOGLE_APPLICATION_CREDENTIALS to the key file's path, or source.credentials in the config");
  }
  const file = credentials ? path.resolve(baseDir, credentials) : path.resolve(configured);
  const source = `${credentials ? "source.credentials" : "GOOGLE_APPLICATION_CREDENTIALS"} ${file}`;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "it is a directory" : `it cannot be read (${code ?? "unknown error"})`;
    throw new SourceError(`cannot read the service-account key (${source}): ${reason}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the fault, which may be part of the private key.
    throw new SourceError(`the service-account key (${source}) is not valid JSON; download a new JSON key for the service account`);
  }
  const key = (data ?? {}) as Record<string, unknown>;
  if (key.type !== "service_account") {
    const kind = typeof key.type === "string" ? `a '${key.type}' credential` : "not a key file";
    throw new SourceError(`the file (${source}) is ${kind}; quo-sync needs a service-account key ("type": "service_account")`);
  }
  if (typeof key.client_email !== "string" || !key.client_email || typeof key.private_key !== "string" || !key.private_key.includes("PRIVATE KEY")) {
    throw new SourceError(`the service-account key (${source}) lacks client_email or private_key; download a new JSON key for the service account`);
  }
  return {
    clientEmail: key.client_email,
    privateKey: key.private_key,
    ...(typeof key.private_key_id === "string" ? { privateKeyId: key.private_key_id } : {}),
    source,
  };
}
