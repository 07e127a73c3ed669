import { alertingV1 } from '@oncall/contracts/grpc';
import { apiStep, SEVERITY, SOURCE, STATUS, toProtoAlert } from './mapping.js';
import type { AlertRow } from './read-model/alerts.js';

const { AlertSource, Severity } = alertingV1;

/** Epoch ms a Timestamp is encoded from here; outside it (before 1970, past JavaScript's dates) ts-proto does it. */
const MAX_DATE_MS = 8.64e15;
/** Room a batch's buffer starts with per alert (bench:query's alerts are ~570 bytes). */
const BYTES_PER_ROW = 1024;
/** Thrown when the batch's buffer has no room left (`one` catches it); made once, so throwing it costs no stack trace. */
const FULL = new Error('the buffer is full');

/**
 * Alerts encoded as `alertingV1.Alert` wire bytes straight from their rows, into one buffer per
 * batch: no `Alert` object, no `Date`s, no buffer per string or sub-message. The bytes are those
 * of `Alert.encode(toProtoAlert(row))` (alert-bytes.test.ts compares them); a row with a value this
 * does not encode itself (a negative number, a time before 1970) is encoded by ts-proto instead.
 * ListAlerts streams them (bench:query: ts-proto's encoding and its garbage were ~40% of
 * query-api's CPU per streamed alert).
 */
export class AlertBytes {
  private buf = Buffer.alloc(0);
  private pos = 0;

  /**
   * The alerts' bytes, one Buffer each. They are views of buffers this encoder never writes
   * again: each call starts a new one, so a stream may hold them until they are sent.
   */
  encodeAll(rows: readonly AlertRow[]): Buffer[] {
    this.buf = Buffer.allocUnsafe(Math.max(rows.length, 1) * BYTES_PER_ROW);
    this.pos = 0;
    return rows.map((row) => this.one(row));
  }

  private one(row: AlertRow): Buffer {
    for (;;) {
      const start = this.pos;
      try {
        if (!this.alert(row)) {
          this.pos = start;
          this.bytes(alertingV1.Alert.encode(toProtoAlert(row)).finish());
        }
        return this.buf.subarray(start, this.pos);
      } catch (err) {
        if (err !== FULL) throw err;
        // The alert again from the start of a larger buffer; the views given out keep the old one.
        this.buf = Buffer.allocUnsafe(this.buf.length * 2);
        this.pos = 0;
      }
    }
  }

  /** Writes the alert; false (with part of it written) when a value needs ts-proto's encoding. */
  private alert(r: AlertRow): boolean {
    const step = apiStep(r.escalation_step);
    const round = r.escalation_round ?? 0;
    if (r.repeat_count < 0 || step < 0 || round < 0 || r.last_event_seq < 0 || !Number.isSafeInteger(r.last_event_seq)) return false;
    this.string(10, r.id);
    this.string(18, r.service_id);
    this.string(26, r.summary);
    this.string(34, r.details);
    this.varint(40, STATUS[r.status]);
    this.varint(48, SOURCE[r.source] ?? AlertSource.ALERT_SOURCE_UNSPECIFIED);
    this.string(58, r.fingerprint);
    this.map(66, r.labels);
    this.map(74, r.annotations);
    if (!this.time(82, r.created_at)) return false;
    if (!this.time(90, r.acknowledged_at)) return false;
    this.string(98, r.acknowledged_by ?? '');
    if (!this.time(106, r.resolved_at)) return false;
    this.string(114, r.resolved_by ?? '');
    this.string(122, r.ticket_key ?? r.external_ticket_id ?? '');
    this.varint(128, SEVERITY[r.severity] ?? Severity.SEVERITY_UNSPECIFIED);
    if (!this.time(138, r.updated_at)) return false;
    this.string(146, r.generator_url ?? '');
    this.varint(152, r.repeat_count);
    this.varint(160, step);
    if (!this.time(170, r.snoozed_until)) return false;
    this.varint(176, r.last_event_seq);
    this.string(186, r.policy_id ?? '');
    if (!this.time(194, r.next_escalation_at)) return false;
    this.varint(200, r.suppressed_by !== null ? 1 : 0);
    this.string(210, r.suppressed_by ?? '');
    if (!this.time(218, r.suppressed_until)) return false;
    this.varint(224, round);
    this.string(234, r.escalation_stopped_reason ?? '');
    this.string(242, r.snoozed_by ?? '');
    if (!this.time(250, r.escalated_at)) return false;
    this.string(258, r.escalated_by ?? '');
    this.string(266, r.ticket_url ?? '');
    this.varint(272, SEVERITY[r.source_severity] ?? Severity.SEVERITY_UNSPECIFIED);
    this.string(322, r.site ?? '');
    this.string(330, r.group_key ?? '');
    this.string(338, r.incident_id ?? '');
    this.varint(344, r.inhibited ? 1 : 0);
    this.string(354, r.inhibited_by ?? '');
    this.string(362, r.inhibited_rule ?? '');
    this.string(370, r.flapping ?? '');
    this.string(378, r.tier ?? '');
    if (!this.time(386, r.sla_deadline)) return false;
    return this.time(394, r.sla_breached_at);
  }

  /** A google.protobuf.Timestamp field as ts-proto's toTimestamp makes it (ms precision); null: absent. */
  private time(tag: number, ms: number | null): boolean {
    if (ms === null) return true;
    if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_DATE_MS) return false;
    const seconds = Math.trunc(ms / 1000);
    const nanos = (ms % 1000) * 1_000_000;
    this.tag(tag);
    let size = 0;
    if (seconds !== 0) size += 1 + varintSize(seconds);
    if (nanos !== 0) size += 1 + varintSize(nanos);
    this.raw(size);
    if (seconds !== 0) this.varint(8, seconds);
    if (nanos !== 0) this.varint(16, nanos);
    return true;
  }

  /** A map<string, string> field: one entry per key, in Object.entries order as ts-proto writes them. */
  private map(tag: number, map: Record<string, string>): void {
    for (const key of Object.keys(map)) {
      this.tag(tag);
      const mark = this.reserve();
      this.string(10, key);
      this.string(18, map[key]!);
      this.close(mark);
    }
  }

  /** A string field (omitted when empty, as proto3 does). */
  private string(tag: number, s: string): void {
    if (s === '') return;
    this.tag(tag);
    const n = s.length;
    if (n < 0x80) {
      // Most are short ASCII: copied here, cheaper than a call into Buffer.write per string.
      this.ensure(n + 1);
      const buf = this.buf;
      const at = this.pos + 1;
      let i = 0;
      for (let c; i < n && (c = s.charCodeAt(i)) < 0x80; i++) buf[at + i] = c;
      if (i === n) {
        buf[this.pos] = n;
        this.pos = at + n;
        return;
      }
    }
    const mark = this.reserve();
    this.ensure(n * 3);
    this.pos += this.buf.write(s, this.pos);
    this.close(mark);
  }

  /** A varint field of a non-negative safe integer (omitted when 0). */
  private varint(tag: number, n: number): void {
    if (n === 0) return;
    this.tag(tag);
    this.raw(n);
  }

  private tag(tag: number): void {
    this.raw(tag);
  }

  /** A non-negative safe integer as a varint. */
  private raw(n: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    for (; n > 0x7fffffff; n = Math.floor(n / 128)) buf[pos++] = (n % 128) | 0x80;
    for (; n > 0x7f; n >>>= 7) buf[pos++] = (n & 0x7f) | 0x80;
    buf[pos++] = n;
    this.pos = pos;
  }

  private bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** One byte for a length not known yet (most are < 128); `close` moves the content if it needs more. */
  private reserve(): number {
    this.ensure(1);
    return this.pos++;
  }

  private close(mark: number): void {
    const length = this.pos - mark - 1;
    if (length < 0x80) {
      this.buf[mark] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.ensure(extra);
    this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    this.pos = mark;
    this.raw(length);
    this.pos += length;
  }

  /** Room for `n` more bytes, or FULL thrown: `one` starts the alert again in a larger buffer. */
  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) throw FULL;
  }
}

const varintSize = (n: number): number => {
  let size = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
};
