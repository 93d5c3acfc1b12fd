/**
 * Generates docs/errors.md: every error code (E_...) the sources use, with its meaning (the message at its first
 * throw site), its HTTP status where the REST API answers with it, its CLI exit code, and where it is raised.
 * `npm run docs:errors` rewrites the file; test/structure/error-codes.test.ts fails when it is stale.
 * Hand-written on purpose: the codes live in string literals across packages, so a small scanner over the sources
 * is the one place that sees them all (a registry would be one more list to keep in step).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['libs', 'apps', 'native/lib'];
const SKIP = /(^|\/)(node_modules|dist|test|web|bench|build)(\/|$)|\.spec\.ts$|\.test\.ts$|\.d\.ts$/;

export interface ErrorCodeRow {
  code: string;
  meaning: string;
  http: number[];
  cliExit: number[];
  where: string[];
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const rel = relative(ROOT, path);
    if (SKIP.test(rel)) continue;
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.ts$/.test(name)) out.push(path);
  }
  return out;
}

/** The package a file belongs to: libs/x, apps/x or native. */
function partOf(rel: string): string {
  const [top, name] = rel.split('/');
  return top === 'native' ? 'native' : `${top}/${name}`;
}

function clean(message: string): string {
  return message
    .replace(/\$\{[^}]*\}/g, '…')
    .replace(/\s+/g, ' ')
    .replace(/\|/g, '\\|')
    .trim()
    .slice(0, 140);
}

/** The message next to a code (`new X('E_..', 'message')`, `{ code, reason }`), a comment on it, or its class's doc. */
function meaningAt(before: string, after: string): string {
  const candidates = [
    /^\s*,\s*(?:`([^`]*)`|'([^'\n]*)'|"([^"\n]*)")/.exec(after),
    /^\s*,\s*(?:reason|message):\s*(?:`([^`]*)`|'([^'\n]*)'|"([^"\n]*)")/.exec(after),
    /^,?\s*\/\/\s*([^\n]+)/.exec(after),
    /\/\*\*\s*((?:[^*]|\*(?!\/))*)\*\/\s*$/.exec(before),
    /\/\*\*\s*((?:[^*]|\*(?!\/))*)\*\/\s*(?:export\s+)?class\s+\w+[^{]*\{\s*(?:override\s+)?readonly\s+code(?::[^=;]*)?\s*=\s*$/.exec(
      before,
    ),
  ];
  for (const found of candidates) {
    if (!found) continue;
    const text = found[1] ?? found[2] ?? found[3] ?? '';
    if (/^E_[A-Z0-9_]+$/.test(text.trim()) || /\$\{[^}]*$/.test(text) || text.trim() === '') continue;
    return clean(text.replace(/^\s*\*\s?/gm, ' '));
  }
  return '';
}

export function collectErrorCodes(root = ROOT): ErrorCodeRow[] {
  const rows = new Map<string, ErrorCodeRow>();
  const files = SOURCE_DIRS.flatMap((d) => sourceFiles(join(root, d)));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file);
    for (const m of text.matchAll(/['"](E_[A-Z0-9]+(?:_[A-Z0-9]+)*)['"]/g)) {
      const code = m[1];
      const row = rows.get(code) ?? { code, meaning: '', http: [], cliExit: [], where: [] };
      rows.set(code, row);
      if (!row.where.includes(partOf(rel))) row.where.push(partOf(rel));
      const after = text.slice(m.index + m[0].length, m.index + m[0].length + 400);
      const before = text.slice(Math.max(0, m.index - 300), m.index);
      if (!row.meaning) row.meaning = meaningAt(before, after);
      const status =
        /^\s*:\s*(\d{3})\b/.exec(after) ?? // STATUS maps: E_X: 404
        /status\s*===\s*(\d{3})\)\s*return\s*$/.exec(before) ?? // codeOfStatus
        /status:\s*(\d{3}),\s*code:\s*$/.exec(before) ?? // { status: 503, code: 'E_X' }
        /^[^;{}]*?,\s*(\d{3}),?\s*\)/.exec(after); // new EnrollmentError('E_X', message, 409)
      if (status && /^[45]\d\d$/.test(status[1])) {
        const value = Number(status[1]);
        if (!row.http.includes(value)) row.http.push(value);
      }
      const cli = /new CliError\([\s\S]*?,\s*([12]),\s*$/.exec(before.slice(-300));
      if (cli && !row.cliExit.includes(Number(cli[1]))) row.cliExit.push(Number(cli[1]));
    }
  }
  // status maps keyed by bare codes (services/operator-error.ts STATUS: `E_NOT_FOUND: 404`)
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\b(E_[A-Z0-9_]+):\s*([45]\d\d)\b/g)) {
      const row = rows.get(m[1]);
      if (row && !row.http.includes(Number(m[2]))) row.http.push(Number(m[2]));
    }
  }
  for (const row of rows.values()) {
    row.http.sort();
    row.where.sort();
    // the CLIs (libs/cli runProgram) exit 2 for every error but a CliError raised with exit code 1
    if (row.cliExit.length === 0) row.cliExit.push(2);
    row.cliExit.sort();
  }
  return [...rows.values()].sort((a, b) => a.code.localeCompare(b.code));
}

export function errorCodesMarkdown(root = ROOT): string {
  const rows = collectErrorCodes(root);
  const lines = [
    '# Error codes',
    '',
    '<!-- generated by `npm run docs:errors` (scripts/error-codes.ts); do not edit by hand -->',
    '',
    'Every error Concord raises carries a stable `code`. Coded errors extend `ConcordError` (libs/protocol',
    'concord-error.ts), except argument guards that stay `TypeError`/`RangeError` with a `code`. Columns: the meaning',
    '(the message at its first throw site, `…` where it names a value), the HTTP status the REST API answers with',
    '(empty: not a REST answer), the CLI exit code (0 ok, 1 a negative answer or findings, 2 bad input or failure;',
    '`libs/cli` runProgram), and the packages that raise it.',
    '',
    `${rows.length} codes.`,
    '',
    '| code | meaning | HTTP | CLI exit | raised in |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.code}\` | ${r.meaning || '—'} | ${r.http.join(', ')} | ${r.cliExit.join(', ')} | ${r.where.join(', ')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = join(ROOT, 'docs/errors.md');
  writeFileSync(path, errorCodesMarkdown());
  process.stdout.write(`wrote ${relative(ROOT, path)}\n`);
}
