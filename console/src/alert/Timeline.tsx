import type { TimelineEntry } from '@oncall/contracts/console-api';
import { formatStamp } from '../time';

/** Every event of the alert, newest first (sorted here; equal times keep the server's order, reversed). */
export function Timeline({ entries }: { entries: readonly TimelineEntry[] }) {
  const sorted = [...entries].reverse().sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return (
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline (newest first)</h2>
      {sorted.length === 0 ? (
        <p>No events yet.</p>
      ) : (
        <ol class="timeline">
          {sorted.map((e, i) => (
            <li key={`${e.at}:${i}`} class={`tl tl-${e.stream}`} data-type={e.type}>
              <time dateTime={e.at}>{formatStamp(e.at)}</time>
              <span class="tl-stream">{e.stream}</span>
              <span class="tl-message">{e.message}</span>
              {e.actor && <span class="tl-actor">by {e.actor}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
