import { formatTime } from '../time';

type Props = { volume: readonly Readonly<{ hour: string; alerts: number }>[] };

/** Alerts per hour as an inline SVG bar chart (no chart library); every bar has a title with its numbers. */
export function VolumeChart({ volume }: Props) {
  const width = 720;
  const height = 160;
  const max = Math.max(1, ...volume.map((v) => v.alerts));
  const bar = volume.length ? width / volume.length : width;
  const total = volume.reduce((n, v) => n + v.alerts, 0);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${width} ${height + 20}`}
        role="img"
        aria-label={`Alerts per hour, last ${volume.length} hours: ${total} in all, at most ${max} in an hour`}
      >
        <line x1="0" x2={width} y1={height} y2={height} class="axis" />
        {volume.map((v, i) => {
          const h = (v.alerts / max) * (height - 10);
          return (
            <rect key={v.hour} x={i * bar + 1} y={height - h} width={Math.max(1, bar - 2)} height={h} class="bar">
              <title>{`${formatTime(v.hour)}: ${v.alerts} alerts`}</title>
            </rect>
          );
        })}
        <text x="0" y={height + 16} class="tick">
          {volume[0] ? formatTime(volume[0].hour) : ''}
        </text>
        <text x={width} y={height + 16} class="tick" text-anchor="end">
          {volume.at(-1) ? formatTime(volume.at(-1)!.hour) : ''}
        </text>
        <text x="4" y="12" class="tick">
          {max}/h
        </text>
      </svg>
      <figcaption>Alerts created per hour (last {volume.length} hours, oldest left).</figcaption>
    </figure>
  );
}
