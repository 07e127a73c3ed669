import type { RenderContext } from '../context.js';

/** Only these schemes become clickable in the built-in messages; anything else stays text. */
export const isWebLink = (href: string): boolean => /^https?:\/\//i.test(href);

/**
 * Links for the built-in messages: the alert's links, annotation `*_url` values (runbook_url →
 * "Runbook"), then the alert in the UI. Duplicates by URL are dropped.
 */
export function messageLinks(ctx: RenderContext): { href: string; text: string }[] {
  const fromAnnotations = Object.entries(ctx.annotations)
    .filter(([k, v]) => k.endsWith('_url') && v !== '')
    .map(([k, v]) => {
      const name = k.slice(0, -4).replace(/_/g, ' ');
      return { href: v, text: name.charAt(0).toUpperCase() + name.slice(1) };
    });
  const all = [...ctx.links, ...fromAnnotations, ...(ctx.alert.url ? [{ href: ctx.alert.url, text: 'Open alert' }] : [])];
  const seen = new Set<string>();
  return all.filter((l) => !seen.has(l.href) && seen.add(l.href));
}
