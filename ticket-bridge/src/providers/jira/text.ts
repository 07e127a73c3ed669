/**
 * Rich text for Jira: Atlassian Document Format for Cloud (REST v3), wiki markup for Server / Data
 * Center (REST v2). Blank lines separate paragraphs, single newlines are line breaks; links come
 * last, one paragraph each. Pure.
 */

export interface AdfNode {
  type: string;
  text?: string;
  marks?: { type: string; attrs?: Record<string, string> }[];
  content?: AdfNode[];
}

export interface AdfDoc {
  version: 1;
  type: 'doc';
  content: AdfNode[];
}

export interface TextLink {
  text: string;
  href: string;
}

function paragraphs(text: string): string[][] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.split('\n').map((line) => line.trimEnd()))
    .filter((lines) => lines.some((line) => line.trim() !== ''));
}

function adfParagraph(lines: string[]): AdfNode {
  const content: AdfNode[] = [];
  lines.forEach((line, i) => {
    if (i > 0) content.push({ type: 'hardBreak' });
    // ADF rejects empty text nodes.
    if (line !== '') content.push({ type: 'text', text: line });
  });
  return { type: 'paragraph', content };
}

export function toAdf(text: string, links: readonly TextLink[] = []): AdfDoc {
  const content = paragraphs(text).map(adfParagraph);
  for (const link of links) {
    content.push({
      type: 'paragraph',
      content: [{ type: 'text', text: link.text || link.href, marks: [{ type: 'link', attrs: { href: link.href } }] }],
    });
  }
  return { version: 1, type: 'doc', content };
}

export function toWiki(text: string, links: readonly TextLink[] = []): string {
  const parts = paragraphs(text).map((lines) => lines.join('\n'));
  for (const link of links) {
    const label = (link.text || link.href).replace(/[|\]]/g, ' ');
    parts.push(`[${label}|${link.href}]`);
  }
  return parts.join('\n\n');
}

/** Plain text of a comment body as Jira sends it: a wiki string (v2, webhooks) or an ADF document (v3). */
export function plainText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (typeof body !== 'object' || body === null) return '';
  const node = body as AdfNode;
  if (node.type === 'text') return node.text ?? '';
  if (node.type === 'hardBreak') return '\n';
  const inner = (node.content ?? []).map(plainText);
  return node.type === 'doc' ? inner.join('\n\n') : inner.join('');
}
