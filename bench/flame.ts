/**
 * `node --import tsx bench/flame.ts <profile.cpuprofile> <out.svg> [title]`: a static SVG flame
 * graph (root at the bottom, width = CPU samples) of a V8 CPU profile, as the benches write them
 * with BENCH_PROFILE_DIR, for docs/performance.md. Frames narrower than 0.2% are left out, and
 * idle samples (no CPU used); GC stays visible as a frame of its own. Colours: our code orange, npm packages blue, Node's
 * internals grey. (0x and clinic profile a process they start themselves; the benches start
 * theirs, so this reads the profile they already wrote.)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] };
type Profile = { nodes: ProfileNode[] };
type Frame = { name: string; url: string; total: number; children: Frame[] };

const WIDTH = 1200;
const ROW = 16;
const MIN_SHARE = 0.002;

function tree(profile: Profile): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const build = (n: ProfileNode): Frame => {
    const children = (n.children ?? [])
      .map((id) => byId.get(id)!)
      .filter((c) => c.callFrame.functionName !== '(idle)')
      .map(build);
    const total = (n.hitCount ?? 0) + children.reduce((sum, c) => sum + c.total, 0);
    const file = n.callFrame.url ? `${basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '';
    return { name: n.callFrame.functionName || '(anonymous)', url: file ? `${n.callFrame.url}|${file}` : '', total, children };
  };
  return build(profile.nodes[0]!);
}

function colour(url: string): string {
  if (url.includes('node_modules')) return '#7aa6d8';
  if (url.startsWith('file://') || url.startsWith('/')) return '#f0a04b';
  return '#b8b8b8';
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function flameSvg(profile: Profile, title: string): string {
  const root = tree(profile);
  const rects: string[] = [];
  let depth = 0;
  const place = (f: Frame, x: number, level: number): void => {
    const w = (f.total / root.total) * WIDTH;
    if (f.total / root.total < MIN_SHARE) return;
    depth = Math.max(depth, level + 1);
    const label = f.url ? `${f.name} ${f.url.split('|')[1]}` : f.name;
    const share = ((f.total / root.total) * 100).toFixed(1);
    const text = w > 40 ? escape(label.slice(0, Math.floor(w / 6.5))) : '';
    rects.push(
      `<g><title>${escape(label)} (${share}%)</title><rect x="${x.toFixed(1)}" y="LEVEL${level}" width="${(w - 0.5).toFixed(1)}" height="${ROW - 1}" fill="${colour(f.url.split('|')[0] ?? '')}"/>` +
        (text ? `<text x="${(x + 3).toFixed(1)}" y="TEXT${level}">${text}</text>` : '') +
        '</g>',
    );
    let cx = x;
    for (const c of [...f.children].sort((a, b) => a.name.localeCompare(b.name))) {
      place(c, cx, level + 1);
      cx += (c.total / root.total) * WIDTH;
    }
  };
  place(root, 0, 0);
  const height = (depth + 2) * ROW;
  const body = rects
    .join('\n')
    .replace(/LEVEL(\d+)/g, (_, l: string) => String(height - (Number(l) + 1) * ROW))
    .replace(/TEXT(\d+)/g, (_, l: string) => String(height - Number(l) * ROW - 4));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height + ROW}" font-family="monospace" font-size="11">\n` +
    `<text x="4" y="12">${escape(title)} — ${root.total} CPU samples (idle left out); width = share of them, root at the bottom</text>\n` +
    `<g transform="translate(0 ${ROW})">\n${body}\n</g>\n</svg>\n`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output, title] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: node --import tsx bench/flame.ts <profile.cpuprofile> <out.svg> [title]\n');
    process.exit(2);
  }
  const profile = JSON.parse(await readFile(input, 'utf8')) as Profile;
  await writeFile(output, flameSvg(profile, title ?? basename(input)));
}
