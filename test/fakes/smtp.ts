import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerError, type SMTPServerSession } from 'smtp-server';
import { FailurePlan, Recorder } from './http.js';

/** A message the fake accepted. */
export interface SmtpMessage {
  /** MAIL FROM and RCPT TO addresses. */
  envelope: { from: string | null; to: string[] };
  /** The authenticated user, or null. */
  user: string | null;
  raw: string;
  /** mailparser's reading of `raw`: subject, text, html, headers, messageId. */
  parsed: ParsedMail;
}

/**
 * An SMTP reply injected at one step of the next session (connection): `auth` (e.g. 535),
 * `mail` (MAIL FROM), `rcpt` (RCPT TO, e.g. 550 or 451) or `data` (after the message, e.g. 554);
 * or no reply at all at that step until the fake closes (`hang`).
 */
export type SmtpFailure =
  { stage: 'auth' | 'mail' | 'rcpt' | 'data'; code: number; message?: string } | { stage: 'mail' | 'rcpt' | 'data'; hang: true };

export interface SmtpFakeOptions {
  /** When given, AUTH (PLAIN/LOGIN, allowed without TLS) is required and checked; otherwise AUTH is not offered. */
  auth?: { user: string; pass: string };
}

export interface SmtpFake {
  readonly host: string;
  readonly port: number;
  readonly auth: { user: string; pass: string } | null;
  readonly messages: Recorder<SmtpMessage>;
  /** Connections accepted so far (one per message for a non-pooled client). */
  readonly sessions: number;
  /** Apply `failure` to the next `times` sessions. */
  failNext(failure: SmtpFailure, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

function smtpError(code: number, message: string): SMTPServerError {
  const err: SMTPServerError = new Error(message);
  err.responseCode = code;
  return err;
}

/**
 * A local SMTP server (`smtp-server`) without TLS (STARTTLS not offered) that records every
 * accepted message with mailparser, with failure injection per session.
 */
export async function startSmtpFake(opts: SmtpFakeOptions = {}): Promise<SmtpFake> {
  const auth = opts.auth ?? null;
  const messages = new Recorder<SmtpMessage>();
  const failures = new FailurePlan<SmtpFailure>();
  const sessionFailures = new Map<string, SmtpFailure>();
  let sessions = 0;

  /** Calls back with the injected failure of this step, or hangs, or returns false to go on. */
  const injected = (session: SMTPServerSession, stage: SmtpFailure['stage'], callback: (err?: Error | null) => void): boolean => {
    const failure = sessionFailures.get(session.id);
    if (failure === undefined || failure.stage !== stage) return false;
    sessionFailures.delete(session.id);
    if ('hang' in failure) return true;
    callback(smtpError(failure.code, failure.message ?? `injected ${failure.code}`));
    return true;
  };

  const server = new SMTPServer({
    logger: false,
    banner: 'oncall SMTP fake',
    disabledCommands: auth === null ? ['STARTTLS', 'AUTH'] : ['STARTTLS'],
    authOptional: auth === null,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    closeTimeout: 100,
    onConnect(session, callback) {
      sessions += 1;
      const failure = failures.take();
      if (failure !== undefined) sessionFailures.set(session.id, failure);
      callback();
    },
    onClose(session) {
      sessionFailures.delete(session.id);
    },
    onAuth(credentials, session, callback) {
      if (injected(session, 'auth', callback)) return;
      if (auth === null || credentials.username !== auth.user || credentials.password !== auth.pass) {
        callback(smtpError(535, 'Authentication credentials invalid'));
        return;
      }
      callback(null, { user: credentials.username });
    },
    onMailFrom(_address, session, callback) {
      if (injected(session, 'mail', callback)) return;
      callback();
    },
    onRcptTo(_address, session, callback) {
      if (injected(session, 'rcpt', callback)) return;
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (injected(session, 'data', callback)) return;
        const raw = Buffer.concat(chunks).toString('utf8');
        const mailFrom = session.envelope.mailFrom;
        simpleParser(raw)
          .then((parsed) => {
            messages.push({
              envelope: { from: mailFrom === false ? null : mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address) },
              user: typeof session.user === 'string' ? session.user : null,
              raw,
              parsed,
            });
            callback(null, `Message queued as fake${messages.items.length}`);
          })
          .catch((err: unknown) => callback(smtpError(554, `unparsable message: ${String(err)}`)));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  let closing: Promise<void> | null = null;

  return {
    host: '127.0.0.1',
    port,
    auth,
    messages,
    get sessions() {
      return sessions;
    },
    failNext: (failure, times = 1) => failures.add(failure, times),
    reset: () => {
      messages.clear();
      failures.clear();
      sessions = 0;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closing;
    },
  };
}
