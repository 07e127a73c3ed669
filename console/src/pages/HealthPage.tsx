import { useEffect, useState } from 'preact/hooks';
import type { HealthView } from '@oncall/contracts/console-api';
import { api, ApiError } from '../api';
import { VolumeChart } from '../health/VolumeChart';
import { formatDuration, formatTime } from '../time';

/** The NOC's health: where alerts are open, how fast they are answered, what is noisy, what is stuck. */
export function HealthPage() {
  const [data, setData] = useState<HealthView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () =>
      api<HealthView>('GET', '/api/health').then(
        (d) => (setData(d), setError(null)),
        (err: unknown) => !(err instanceof ApiError && err.status === 401) && setError(String(err instanceof Error ? err.message : err)),
      );
    void load();
    const t = setInterval(() => void load(), 30_000);
    return () => clearInterval(t);
  }, []);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!data) return <p aria-busy="true">Loading health…</p>;

  return (
    <section class="health" aria-labelledby="health-title">
      <h1 id="health-title">Health of the NOC</h1>
      <div class="health-grid">
        <section aria-labelledby="by-site">
          <h2 id="by-site">Open by site</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col" class="num">
                  Open
                </th>
                <th scope="col" class="num">
                  Critical
                </th>
              </tr>
            </thead>
            <tbody>
              {data.openBySite.map((r) => (
                <tr key={r.site}>
                  <th scope="row">
                    <a href={`/?site=${encodeURIComponent(r.site)}`}>{r.site}</a>
                  </th>
                  <td class="num">{r.open}</td>
                  <td class="num">{r.critical}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="volume">
          <h2 id="volume">Alert volume</h2>
          <VolumeChart volume={data.volume} />
        </section>
        <section aria-labelledby="mtta">
          <h2 id="mtta">MTTA and MTTR by service and week</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Week</th>
                <th scope="col" class="num">
                  Alerts
                </th>
                <th scope="col" class="num">
                  MTTA
                </th>
                <th scope="col" class="num">
                  MTTR
                </th>
              </tr>
            </thead>
            <tbody>
              {data.mtta.map((r) => (
                <tr key={`${r.serviceId}:${r.week}`}>
                  <th scope="row">{r.serviceId}</th>
                  <td>{r.week}</td>
                  <td class="num">{r.alerts}</td>
                  <td class="num">{formatDuration(r.mttaSeconds)}</td>
                  <td class="num">{formatDuration(r.mttrSeconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="noisy">
          <h2 id="noisy">Noisy alerts (most repeats, 7 days)</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Alert</th>
                <th scope="col">Service</th>
                <th scope="col" class="num">
                  Repeats
                </th>
              </tr>
            </thead>
            <tbody>
              {data.noisy.map((r) => (
                <tr key={r.alertId}>
                  <th scope="row">
                    <a href={`/alerts/${encodeURIComponent(r.alertId)}`}>{r.summary}</a>
                  </th>
                  <td>{r.serviceId}</td>
                  <td class="num">{r.repeats}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="parked">
          <h2 id="parked">Parked messages</h2>
          {data.parked.length === 0 ? (
            <p>None parked.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Consumer</th>
                  <th scope="col" class="num">
                    Parked
                  </th>
                  <th scope="col">Oldest</th>
                </tr>
              </thead>
              <tbody>
                {data.parked.map((r) => (
                  <tr key={r.consumer}>
                    <th scope="row">{r.consumer}</th>
                    <td class="num">{r.count}</td>
                    <td>{formatTime(r.oldest)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby="failing">
          <h2 id="failing">Failing deliveries</h2>
          {data.failingDeliveries.length === 0 ? (
            <p>No failing deliveries.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col" class="num">
                    Failed
                  </th>
                  <th scope="col">Last error</th>
                  <th scope="col">Last</th>
                </tr>
              </thead>
              <tbody>
                {data.failingDeliveries.map((r) => (
                  <tr key={r.channel}>
                    <th scope="row">{r.channel}</th>
                    <td class="num">{r.failed}</td>
                    <td>{r.lastError ?? '—'}</td>
                    <td>{formatTime(r.lastAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </section>
  );
}
