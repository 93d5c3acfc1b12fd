/**
 * docs/architecture.md names where things live as `path#symbol`. Each must be one hop from the docs: the file exists
 * and defines the symbol (a function, class, const, type, interface or method of that name). When code moves, this
 * test names the stale row.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const doc = readFileSync(root('docs/architecture.md'), 'utf8');
const refs = [...doc.matchAll(/`([\w./-]+\.(?:ts|cc|h|mjs))#([A-Za-z_$][\w$]*)`/g)].map((m) => ({
  path: m[1],
  symbol: m[2],
}));

/** True when `text` defines `symbol`: a declaration, or a class member (method or property) of that name. */
export function defines(text: string, symbol: string): boolean {
  const s = symbol.replace(/\$/g, '\\$');
  const declaration = new RegExp(
    `(?:^|\\n)\\s*(?:export\\s+)?(?:default\\s+)?(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?` +
      `(?:function\\*?|class|const|let|var|type|interface|enum)\\s+${s}\\b`,
  );
  const member = new RegExp(`\\n\\s+(?:(?:public|private|protected|static|readonly|async|get|set)\\s+)*${s}\\s*[(<=:]`);
  return declaration.test(text) || member.test(text);
}

describe('docs/architecture.md "where X lives"', () => {
  it('has at least 15 path#symbol rows', () => {
    const table = doc.slice(doc.indexOf('## Where X lives'));
    const rows = table.split('\n').filter((line) => /^\| .* \| `[^`]+#[^`]+` \|$/.test(line));
    expect(rows.length).toBeGreaterThanOrEqual(15);
  });

  it.each(refs.map((r) => [`${r.path}#${r.symbol}`, r] as const))('%s is defined there', (_name, ref) => {
    expect(existsSync(root(ref.path)), `${ref.path} does not exist`).toBe(true);
    expect(
      defines(readFileSync(root(ref.path), 'utf8'), ref.symbol),
      `${ref.symbol} is not defined in ${ref.path}`,
    ).toBe(true);
  });

  it('the check itself tells a definition from a mere use', () => {
    expect(defines('export function openRound() {}', 'openRound')).toBe(true);
    expect(defines('export class A {\n  async append(tx) {}\n}', 'append')).toBe(true);
    expect(defines("import { openRound } from './cohort.js';\nopenRound();", 'openRound')).toBe(false);
    expect(defines('const x = openRoundTwo;', 'openRound')).toBe(false);
  });
});
