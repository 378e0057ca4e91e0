// Parses Mermaid diagrams with Mermaid itself (the parser GitHub and
// GitLab draw them with) and says what it read. Standard input: a JSON
// array of diagram texts. Standard output: a JSON array, per diagram,
// {error} when Mermaid refused it, or {type, actors, messages} with each
// participant's alias and each message's and note's text, entity codes
// (#59;) decoded as Mermaid draws them.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

// Mermaid sanitizes text with DOMPurify, which needs a DOM.
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

// Mermaid swaps entity codes for these placeholders before parsing and
// back to HTML entities when it draws.
const decode = (s) => String(s)
  .replace(/ﬂ°°(\d+)¶ß/g, (_, n) => String.fromCodePoint(Number(n)))
  .replace(/ﬂ°(\w+)¶ß/g, (_, name) => ({ quot: '"', amp: '&', lt: '<', gt: '>', nbsp: '\u00a0' })[name] ?? `#${name};`);

const texts = JSON.parse(readFileSync(0, 'utf8'));
const out = [];
for (const text of texts) {
  try {
    await mermaid.parse(text);
    const d = await mermaid.mermaidAPI.getDiagramFromText(text);
    out.push({
      type: d.type,
      actors: [...d.db.getActors().values()].map((a) => ({ name: a.name, alias: decode(a.description) })),
      messages: d.db.getMessages().map((m) => ({ from: m.from ?? '', to: m.to ?? '', type: m.type, text: decode(m.message) })),
    });
  } catch (e) {
    out.push({ error: String(e?.message ?? e) });
  }
}
process.stdout.write(JSON.stringify(out));
