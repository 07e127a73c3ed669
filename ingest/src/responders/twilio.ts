import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import twilio from 'twilio';
import { z } from 'zod';
import { buildEvent, encodeEvent, partitionOf, stableUuid, subjects, type EventData } from '@oncall/contracts';
import {
  CommandNotAppended,
  normalizeCode,
  parseReply,
  providerStatusOf,
  readStatusRef,
  registry,
  TWILIO_PATHS,
  VOICE_DIGITS,
  type CommandAnswer,
  type ContactVerifications,
  type Logger,
  type ReplyAction,
  type ReplyCode,
  type ReplyCodes,
  type SmsOptOuts,
  type StreamAppender,
} from '@oncall/shared';
import { answerSpeech, answerText, SMS_HELP, SMS_STARTED, SMS_STOPPED, unknownCodeText } from '../domain/phone-answers.js';
import { HttpError, invalidPayload } from '../http/errors.js';
import type { ResponderDeps } from './index.js';

/** What the Twilio routes need beyond the other responders. */
export type TwilioResponderDeps = Readonly<{
  /** TWILIO_AUTH_TOKEN: Twilio signs its requests with it. */
  authToken: string;
  codes: ReplyCodes;
  optOuts: SmsOptOuts;
  /** Contact verification: a 6-digit SMS from a number with a pending SMS verification confirms it. */
  verifications?: ContactVerifications;
  /** Appends status reports to the deliveries stream. */
  appender: StreamAppender;
  partitions: number;
}>;

export const twilioReplies = new Counter({
  name: 'oncall_ingest_twilio_replies_total',
  help: 'Answers to pages by SMS and phone, and Twilio status callbacks, by outcome',
  labelNames: ['channel', 'outcome'],
  registers: [registry],
});

const COMMAND_TIMEOUT_MS = 10_000;
/** Said when the command path is down: Twilio does not retry SMS webhooks, so the person must. */
const VERIFIED_TEXT = 'This number is verified for on-call pages.';
const NOT_RECORDED = 'Sorry, your answer could not be recorded right now. Please try again in a minute.';
const isTimeout = (err: unknown): boolean => err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError');

const SmsForm = z.object({ From: z.string().min(1), Body: z.string(), MessageSid: z.string().min(1) });
const VoiceForm = z.object({ To: z.string().min(1), CallSid: z.string().min(1), Digits: z.string().optional() });
const VoiceQuery = z.object({ code: z.coerce.number().int().positive() });
const StatusForm = z
  .object({
    MessageSid: z.string().optional(),
    MessageStatus: z.string().optional(),
    CallSid: z.string().optional(),
    CallStatus: z.string().optional(),
    ErrorCode: z.string().optional(),
  })
  .refine((f) => (f.MessageSid && f.MessageStatus) || (f.CallSid && f.CallStatus), 'needs MessageSid/MessageStatus or CallSid/CallStatus');

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw invalidPayload(r.error);
  return r.data;
}

const xml = (reply: FastifyReply, body: string): FastifyReply => reply.type('text/xml').send(body);

function smsReply(reply: FastifyReply, text: string): FastifyReply {
  const r = new twilio.twiml.MessagingResponse();
  r.message(text);
  return xml(reply, r.toString());
}

function sayReply(reply: FastifyReply, text: string, gatherAgain?: string): FastifyReply {
  const r = new twilio.twiml.VoiceResponse();
  if (gatherAgain === undefined) r.say(text);
  else r.gather({ input: ['dtmf'], numDigits: 1, timeout: 10, action: gatherAgain, method: 'POST' }).say(text);
  return xml(reply, r.toString());
}

/**
 * Twilio's inbound routes: SMS replies to pages (`<code><letter>` and the carrier keywords),
 * the digit pressed during a page call, and status callbacks of what the dispatcher sent. Every
 * request must carry Twilio's signature over `ONCALL_PUBLIC_URL` + path (+ query) and the form
 * parameters; anything else is 403 and changes nothing.
 */
export async function twilioRoutes(app: FastifyInstance, deps: ResponderDeps): Promise<void> {
  const t = deps.twilio ?? null;
  const publicUrl = deps.publicUrl?.replace(/\/+$/, '') ?? null;
  const log = deps.log.child({ component: 'twilio' });

  /** The URL Twilio posted to, as it sees it (and signed it): the public URL, the route, the query. */
  const ownUrl = (req: FastifyRequest, path: string): string => {
    const q = req.url.indexOf('?');
    return (publicUrl ?? '') + path + (q < 0 ? '' : req.url.slice(q));
  };

  /** Twilio's signature, or 403 (503 when this ingest cannot check it). */
  const verify = (req: FastifyRequest, path: string, channel: string): TwilioResponderDeps => {
    if (t === null || publicUrl === null)
      throw new HttpError(503, 'twilio_not_configured', 'set TWILIO_AUTH_TOKEN and ONCALL_PUBLIC_URL to take Twilio requests');
    const url = ownUrl(req, path);
    const signature = req.headers['x-twilio-signature'];
    const params = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, string>) : {};
    if (typeof signature !== 'string' || signature === '' || !twilio.validateRequest(t.authToken, signature, url, params)) {
      twilioReplies.inc({ channel, outcome: 'forbidden' });
      log.warn({ path, signed: typeof signature === 'string' }, 'Twilio request with a missing or wrong signature refused');
      throw new HttpError(403, 'bad_twilio_signature', 'X-Twilio-Signature is missing or does not match this request');
    }
    return t;
  };

  /** The decider's answer, or null when the command could not be appended or was not answered in time. */
  const run = async (code: ReplyCode, action: ReplyAction, via: 'sms' | 'voice', key: string, l: Logger): Promise<CommandAnswer | null> => {
    let answer: CommandAnswer;
    try {
      answer = await submit(code, action, via, key);
    } catch (err) {
      if (!(err instanceof CommandNotAppended) && !isTimeout(err)) throw err;
      twilioReplies.inc({ channel: via, outcome: 'error' });
      l.error({ err }, 'page answer not recorded');
      return null;
    }
    twilioReplies.inc({ channel: via, outcome: answer.outcome === 'changed' ? 'changed' : `declined_${answer.reason}` });
    l.info({ outcome: answer.outcome, event: answer.outcome === 'changed' ? answer.event.type : answer.reason }, 'page answered');
    return answer;
  };

  const submit = (code: ReplyCode, action: ReplyAction, via: 'sms' | 'voice', key: string): Promise<CommandAnswer> =>
    deps.commands.submit(
      {
        target: { alertId: code.alertId, serviceId: code.serviceId, fingerprint: code.fingerprint },
        command: action,
        userId: code.userId,
        via,
        key,
      },
      AbortSignal.timeout(COMMAND_TIMEOUT_MS),
    );

  app.post(TWILIO_PATHS.sms, async (req, reply) => {
    const tw = verify(req, TWILIO_PATHS.sms, 'sms');
    const form = parse(SmsForm, req.body);
    const parsed = parseReply(form.Body);
    const l = log.child({ messageSid: form.MessageSid });
    if (parsed.kind === 'keyword') {
      twilioReplies.inc({ channel: 'sms', outcome: parsed.keyword });
      if (parsed.keyword === 'help') return smsReply(reply, SMS_HELP);
      await tw.optOuts.record(form.From, parsed.keyword, form.Body.trim().toUpperCase(), deps.now());
      l.info({ keyword: parsed.keyword }, parsed.keyword === 'stop' ? 'number opted out of SMS' : 'number opted in to SMS again');
      return smsReply(reply, parsed.keyword === 'stop' ? SMS_STOPPED : SMS_STARTED);
    }
    const verificationCode = tw.verifications ? normalizeCode(form.Body) : null;
    if (verificationCode !== null) {
      const userId = await tw.verifications!.pendingSms(form.From);
      if (userId !== null) {
        const result = await tw.verifications!.confirm({ userId, channel: 'sms', code: verificationCode, via: 'sms', now: deps.now() });
        twilioReplies.inc({ channel: 'sms', outcome: result.ok ? 'verified' : `verification_${result.reason}` });
        l.info({ userId, outcome: result.ok ? 'verified' : result.reason }, 'SMS verification code');
        return smsReply(reply, result.ok ? VERIFIED_TEXT : `Not verified: ${result.message}.`);
      }
    }
    if (parsed.kind === 'unknown') {
      twilioReplies.inc({ channel: 'sms', outcome: 'not_understood' });
      return smsReply(reply, `Sorry, that is not a reply we understand. ${SMS_HELP}`);
    }
    const code = await tw.codes.lookup(form.From, parsed.code, deps.now());
    if (code === null) {
      twilioReplies.inc({ channel: 'sms', outcome: 'unknown_code' });
      l.info({ code: parsed.code }, 'SMS reply with a code not sent to this number');
      return smsReply(reply, unknownCodeText(parsed.code));
    }
    const answer = await run(code, parsed.action, 'sms', `twilio-sms:${form.MessageSid}`, l.child({ alertId: code.alertId }));
    return smsReply(reply, answer === null ? NOT_RECORDED : answerText(answer, code.summary));
  });

  app.post(TWILIO_PATHS.voice, async (req, reply) => {
    const tw = verify(req, TWILIO_PATHS.voice, 'voice');
    const { code: n } = parse(VoiceQuery, req.query);
    const form = parse(VoiceForm, req.body);
    const l = log.child({ callSid: form.CallSid });
    // On a call we placed, To is the person we called: the number the code was given to.
    const code = await tw.codes.lookup(form.To, n, deps.now());
    if (code === null) {
      twilioReplies.inc({ channel: 'voice', outcome: 'unknown_code' });
      return sayReply(reply, 'This page can no longer be answered by phone. Goodbye.');
    }
    const action = form.Digits === undefined ? undefined : VOICE_DIGITS[form.Digits];
    if (action === undefined) {
      twilioReplies.inc({ channel: 'voice', outcome: 'not_understood' });
      return sayReply(reply, 'Press 1 to acknowledge, 2 to resolve, 3 to escalate.', ownUrl(req, TWILIO_PATHS.voice));
    }
    const answer = await run(code, action, 'voice', `twilio-voice:${form.CallSid}:${form.Digits}`, l.child({ alertId: code.alertId }));
    return sayReply(reply, answer === null ? NOT_RECORDED : answerSpeech(answer));
  });

  app.post(TWILIO_PATHS.status, async (req, reply) => {
    const tw = verify(req, TWILIO_PATHS.status, 'status');
    const ref = readStatusRef(req.query as Record<string, unknown>);
    if (ref === null) throw new HttpError(400, 'invalid_status_callback', 'the status callback URL lacks what identifies the delivery');
    const form = parse(StatusForm, req.body);
    const sid = form.MessageSid ?? form.CallSid ?? '';
    const twilioStatus = form.MessageStatus ?? form.CallStatus ?? '';
    const status = providerStatusOf(twilioStatus);
    if (status === null) {
      twilioReplies.inc({ channel: 'status', outcome: 'ignored' });
      return reply.code(204).send();
    }
    const data: EventData<'NotificationStatusReported'> = {
      alertId: ref.alertId,
      serviceId: ref.serviceId,
      notificationId: ref.notificationId,
      channel: ref.channel,
      destination: ref.destination,
      providerMessageId: sid,
      status,
      errorCode: form.ErrorCode ?? null,
    };
    // One event per (message, status): Twilio's retries of a callback are the same event.
    const id = stableUuid(`twilio-status:${sid}:${status}`);
    const event = buildEvent('NotificationStatusReported', data, {
      id,
      occurredAt: new Date(deps.now()).toISOString(),
      causationId: null,
      correlationId: ref.alertId,
    });
    const partition = partitionOf(ref.serviceId, ref.fingerprint, tw.partitions);
    await tw.appender.append(subjects.delivery(partition, ref.alertId), encodeEvent(event), { msgID: id });
    twilioReplies.inc({ channel: 'status', outcome: status });
    log.info({ alertId: ref.alertId, channel: ref.channel, status, sid }, 'Twilio status recorded');
    return reply.code(204).send();
  });
}
