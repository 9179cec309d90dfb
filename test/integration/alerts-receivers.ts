/**
 * Real receivers of alerts for the integration tests: an HTTP server on 127.0.0.1 that collects the
 * JSON POSTed to it (answering as told: 200, a few 500s first, or never), and an SMTP server
 * (smtp-server) that requires a login and collects the mails it is given.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One POST as received. */
export interface Received {
  path: string;
  contentType: string | undefined;
  body: any;
  raw: string;
}

/** How the receiver answers: `ok` 200; `fail` N answers of `status` then 200; `hang` never. */
export type ReceiverMode = { kind: "ok" } | { kind: "fail"; times: number; status: number } | { kind: "hang" };

export interface HttpReceiver {
  /** The base URL, `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** Every request so far, in order (answered or not). */
  readonly requests: Received[];
  setMode(mode: ReceiverMode): void;
  close(): Promise<void>;
}

/** Starts an HTTP receiver of alert POSTs on 127.0.0.1 (a free port). */
export async function startHttpReceiver(mode: ReceiverMode = { kind: "ok" }): Promise<HttpReceiver> {
  let current = mode;
  let failed = 0;
  const requests: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      requests.push({ path: req.url ?? "", contentType: req.headers["content-type"], body, raw });
      if (current.kind === "hang") {
        hanging.push(res);
        return;
      }
      if (current.kind === "fail" && failed < current.times) {
        failed++;
        res.writeHead(current.status).end("no");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    setMode(m) {
      current = m;
      failed = 0;
    },
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One mail as the SMTP server got it: the envelope, the subject and the plain-text body. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  raw: string;
}

export interface SmtpReceiver {
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Logins refused so far. */
  readonly refusedLogins: number;
  close(): Promise<void>;
}

/**
 * Starts an SMTP server on 127.0.0.1 that requires the login `user`/`password` (over plain SMTP:
 * a test has no certificate) and collects every mail.
 */
export async function startSmtpReceiver(user: string, password: string): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  let refused = 0;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) return callback(null, { user });
      refused++;
      return callback(new Error("Invalid username or password"));
    },
    onData(stream, session, callback) {
      let raw = "";
      stream.on("data", (d: Buffer) => (raw += d.toString()));
      stream.on("end", () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), ...parseMail(raw), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    get refusedLogins() {
      return refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The subject and the decoded text body of a single-part plain-text mail (7bit or quoted-printable). */
function parseMail(raw: string): { subject: string; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const body = raw.slice(split + 4);
  const subject = /^Subject: (.*)$/im.exec(head)?.[1] ?? "";
  const qp = /^Content-Transfer-Encoding: quoted-printable/im.test(head);
  const text = qp ? Buffer.from(body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8") : body;
  return { subject, text: text.replace(/\r\n/g, "\n") };
}

/** The value of every `quo_sync_alerts_total` series in a /metrics text, keyed `sync/event/channel/result`. */
export function alertCounts(metricsText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of metricsText.split("\n")) {
    const m = /^quo_sync_alerts_total\{(.*)\} (\d+(?:\.\d+)?)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    out[`${labels.sync}/${labels.event}/${labels.channel}/${labels.result}`] = Number(m[2]);
  }
  return out;
}
