import { createHash } from 'node:crypto';
import { createTransport, type Mail, type SMTPSentMessageInfo, type SMTPTransportOptions } from 'nodemailer';
import { abortable } from './call-context.js';
import { classifyHttpStatus, classifyTransportFailure, DeliveryError, isAbort, sanitizeCause } from './errors.js';
import type { EmailMessage, Notifier, NotifyOptions, NotifyResult } from './types.js';

export interface EmailConfig {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  auth?: { user: string; pass: string };
  /** Sender, e.g. `On-call <oncall@example.com>`; its domain also names the Message-ID. */
  from: string;
  /** Refuse to send unencrypted (STARTTLS must succeed). */
  requireTLS?: boolean;
  /** Extra trusted CA (PEM) for a private relay; certificates are always verified. */
  ca?: string;
  /** Connection, greeting and socket inactivity timeout, and the bound of one send; default 10 s. */
  timeoutMs?: number;
}

/**
 * Host, port, TLS and credentials from an `smtp://` or `smtps://` URL (`SMTP_URL`), e.g.
 * `smtps://user:pass@mail.example.com:465`. User and password are percent-decoded.
 */
export function parseSmtpUrl(url: string): Pick<EmailConfig, 'host' | 'port' | 'secure' | 'auth'> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new Error('SMTP_URL must start with smtp:// or smtps://');
  const secure = parsed.protocol === 'smtps:';
  const port = parsed.port === '' ? (secure ? 465 : 587) : Number(parsed.port);
  const auth =
    parsed.username === '' ? undefined : { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) };
  return { host: parsed.hostname, port, secure, ...(auth === undefined ? {} : { auth }) };
}

/**
 * SMTP replies have no HTTP status: each reply class is given the status the shared classifier
 * reads the same way (RFC 5321 §4.2: 4yz transient, 5yz permanent).
 */
export function smtpReplyAsHttpStatus(code: number): number {
  if (code >= 400 && code <= 499) return 503;
  if (code === 530 || code === 534 || code === 535 || code === 538) return 401;
  if (code === 550 || code === 551 || code === 553) return 404;
  if (code === 552) return 413;
  // 503 "bad sequence of commands" is the session's state, not the message: a new connection may pass.
  if (code === 503) return 500;
  if (code >= 500 && code <= 599) return 400;
  return 0;
}

const MSG_ID_LEFT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** `<key@domain>` when the key is a valid msg-id left part, else a hash of it. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'oncall.invalid';
  const left =
    MSG_ID_LEFT.test(idempotencyKey) && idempotencyKey.length <= 128
      ? idempotencyKey
      : createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
  return `<${left}@${domain}>`;
}

interface NodemailerError {
  code?: string;
  responseCode?: number;
}

class EmailNotifierImpl implements Notifier<EmailMessage> {
  readonly channel = 'email' as const;
  private readonly transport: Mail<SMTPSentMessageInfo, SMTPTransportOptions>;
  private readonly secrets: readonly string[];
  private readonly timeoutMs: number;

  constructor(private readonly config: EmailConfig) {
    this.timeoutMs = config.timeoutMs ?? 10_000;
    const pass = config.auth?.pass;
    const user = config.auth?.user ?? '';
    // The password as AUTH PLAIN and AUTH LOGIN put it on the wire, too.
    this.secrets =
      pass === undefined ? [] : [pass, Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64'), Buffer.from(pass).toString('base64')];
    // One connection per message (no pool): a pool re-queues messages of a dropped connection,
    // which is a retry the pipeline would not know about.
    this.transport = createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      ...(config.auth === undefined ? {} : { auth: { user: config.auth.user, pass: config.auth.pass } }),
      ...(config.requireTLS === true ? { requireTLS: true } : {}),
      ...(config.ca === undefined ? {} : { tls: { ca: config.ca } }),
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
      logger: false,
      debug: false,
    });
  }

  async notify(message: EmailMessage, destination: string, opts: NotifyOptions): Promise<NotifyResult> {
    const messageId = messageIdFor(opts.idempotencyKey, this.config.from);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal === undefined ? timeout : AbortSignal.any([timeout, opts.signal]);
    try {
      // nodemailer cannot cancel a send: on abort the result is abandoned, the SMTP session may still finish.
      const info = await abortable(
        this.transport.sendMail({
          from: this.config.from,
          to: destination,
          subject: message.subject,
          text: message.text,
          html: message.html,
          messageId,
          headers: { 'X-Idempotency-Key': opts.idempotencyKey.replace(/[\r\n]/g, ' ') },
        }),
        signal,
      );
      return { providerMessageId: info.messageId === '' ? messageId : info.messageId };
    } catch (err) {
      throw this.toDeliveryError(err);
    }
  }

  private toDeliveryError(err: unknown): DeliveryError {
    const cause = sanitizeCause(err, this.secrets);
    const { code, responseCode } = (typeof err === 'object' && err !== null ? err : {}) as NodemailerError;
    if (typeof responseCode === 'number' && responseCode >= 400) {
      const classification = classifyHttpStatus(smtpReplyAsHttpStatus(responseCode));
      return new DeliveryError({ channel: 'email', ...classification, providerCode: String(responseCode), cause });
    }
    if (code === 'EAUTH' || code === 'ENOAUTH') {
      return new DeliveryError({ channel: 'email', reason: 'unauthorized', retryable: false, providerCode: code, cause });
    }
    if (code === 'EENVELOPE') {
      return new DeliveryError({ channel: 'email', reason: 'invalid_destination', retryable: false, providerCode: code, cause });
    }
    if ((code !== undefined && TRANSPORT_CODES.has(code)) || isAbort(err)) return classifyTransportFailure('email', err, this.secrets);
    return new DeliveryError({ channel: 'email', reason: 'unknown', retryable: false, providerCode: code ?? null, cause });
  }
}

/** nodemailer codes for a session that broke before the server answered the message. */
const TRANSPORT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ETLS', 'EPROTOCOL']);

/** Sends one message per call over SMTP (nodemailer), with a Message-ID derived from the idempotency key. */
export function emailNotifier(config: EmailConfig): Notifier<EmailMessage> {
  return new EmailNotifierImpl(config);
}
