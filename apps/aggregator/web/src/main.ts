import { Api, ApiError, formatMeasured, qualityOf, type Federation, type Measured } from './api.js';
import { budgetChart, qualityChart } from './charts.js';

const KEY_STORAGE = 'concord.apiKey';
const POLL_MS = 2000;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const text = (value: unknown) => document.createTextNode(String(value));

function row(cells: (string | Node)[], attributes: Record<string, string> = {}): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const [k, v] of Object.entries(attributes)) tr.setAttribute(k, v);
  for (const cell of cells) {
    const td = document.createElement('td');
    td.append(typeof cell === 'string' ? text(cell) : cell);
    tr.append(td);
  }
  return tr;
}

function fill(table: string, rows: HTMLTableRowElement[]): void {
  $<HTMLTableElement>(table).tBodies[0].replaceChildren(...rows);
}

const fmt = (x: number | undefined, digits = 4) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

let api: Api | undefined;
let selected: string | undefined;
let timer: number | undefined;
const updateQuality = qualityChart($<HTMLCanvasElement>('#quality-chart'));
const updateBudget = budgetChart($<HTMLCanvasElement>('#budget-chart'));

function status(message: string, ok = true): void {
  const el = $('#connection');
  el.textContent = message;
  el.className = ok ? 'muted' : 'bad';
}

async function refreshFederations(): Promise<void> {
  if (!api) return;
  const { items } = await api.federations();
  fill(
    '#federations',
    items.map((f: Federation) => {
      const tr = row([f.name, f.status, new Date(f.createdAt).toLocaleString()], { 'data-federation-id': f.id });
      if (f.id === selected) {
        tr.className = 'selected';
        $('#federation-title').textContent = `${f.name} (${f.status})`;
        showReason(f);
      }
      tr.addEventListener('click', () => select(f));
      return tr;
    }),
  );
  if (!selected && items.length > 0) select(items[0]);
}

function select(f: Federation): void {
  selected = f.id;
  $('#detail').hidden = false;
  $('#federation-title').textContent = `${f.name} (${f.status})`;
  showReason(f);
  void refreshDetail();
}

/** Stage timings on one line, cut by the stylesheet; the whole list in the tooltip. */
function stagesCell(timings: Record<string, number>): HTMLElement {
  const span = document.createElement('span');
  span.textContent = Object.entries(timings)
    .map(([stage, ms]) => `${stage} ${Math.round(ms)}`)
    .join(', ');
  span.title = span.textContent;
  return span;
}

/** A round's kind; evaluation rounds stand out (they release no model version, they score one). */
function kindBadge(kind: string): HTMLElement {
  const span = document.createElement('span');
  span.className = `kind kind-${kind}`;
  span.textContent = kind;
  return span;
}

/** `0.912 ± 0.008` (noisy metric ± its noise std), the std also as data-std for scripts and tests. */
function measuredCell(m: Measured | undefined, className?: string): HTMLElement {
  const span = document.createElement('span');
  span.textContent = formatMeasured(m);
  if (m?.std !== undefined) span.dataset.std = String(m.std);
  if (className) span.className = className;
  return span;
}

/** Why the federation waits or stopped (`waiting: 3 of 6 sites connected`), under its title. */
function showReason(f: Federation): void {
  const el = $('#federation-reason');
  el.textContent = f.statusReason?.message ?? '';
  el.hidden = !f.statusReason;
}

async function refreshDetail(): Promise<void> {
  if (!api || !selected) return;
  const id = selected;
  const [rounds, models, budgets, ledger] = await Promise.all([
    api.rounds(id),
    api.models(id),
    api.budgets(id).catch(() => ({ sites: [] })),
    api.ledger(id).catch(() => undefined),
  ]);
  if (id !== selected) return;
  fill(
    '#rounds',
    rounds.items.map((r) =>
      row(
        [
          String(r.number),
          r.state,
          kindBadge(r.kind ?? 'training'),
          String(r.cohort),
          String(r.dropouts),
          stagesCell(r.stageTimings),
        ],
        { 'data-round': String(r.number), 'data-kind': r.kind ?? 'training', class: r.kind ?? 'training' },
      ),
    ),
  );
  updateQuality(models.items);
  $('#quality-empty').hidden = models.items.length > 0;
  fill(
    '#models',
    models.items.map((m) => {
      const link = document.createElement('a');
      link.href = '#';
      link.textContent = 'safetensors';
      link.addEventListener('click', (event) => {
        event.preventDefault();
        void downloadModel(id, m.version, m.fileSha256);
      });
      // the downloaded file's sha256 (what `sha256sum` and the certificate give), not the raw weights'
      const sha = document.createElement('code');
      sha.textContent = m.fileSha256 ? `${m.fileSha256.slice(0, 16)}...` : '-';
      sha.title = m.fileSha256 ?? '';
      sha.dataset.sha256 = m.fileSha256 ?? '';
      const q = qualityOf(m);
      return row(
        [
          String(m.version),
          measuredCell(q.private.accuracy),
          measuredCell(q.private.loss),
          measuredCell(q.private.rocAuc, 'auc'),
          fmt(q.heldOut.accuracy),
          sha,
          link,
        ],
        { 'data-version': String(m.version), ...(q.private.loss ? { class: 'evaluated' } : {}) },
      );
    }),
  );
  // the ROC AUC column only where the task is binary; held-out accuracy only where the server evaluates (simulate)
  $('#models').classList.toggle('no-auc', !models.items.some((m) => qualityOf(m).private.rocAuc));
  $('#models').classList.toggle('no-held-out', !models.items.some((m) => qualityOf(m).heldOut.accuracy !== undefined));
  updateBudget(budgets.sites);
  fill(
    '#budgets',
    budgets.sites.map((s) =>
      row([s.name, fmt(s.epsilonSpent), fmt(s.capEpsilon), fmt(s.remaining)], {
        'data-site-id': s.siteId,
        'data-epsilon': String(s.epsilonSpent),
      }),
    ),
  );
  const ledgerEl = $('#ledger-status');
  if (!ledger) ledgerEl.textContent = 'not readable with this key';
  else {
    ledgerEl.className = ledger.ok ? 'ok' : 'bad';
    ledgerEl.textContent = ledger.ok
      ? `verified: ${ledger.entries} entries, head seq ${ledger.head.seq} ${ledger.head.hash.slice(0, 16)}...`
      : `${ledger.findings.length} findings, first at seq ${ledger.findings[0]?.seq}: ${ledger.findings[0]?.message}`;
    ledgerEl.dataset.ok = String(ledger.ok);
  }
}

async function downloadModel(id: string, version: number, listed: string | null | undefined): Promise<void> {
  if (!api) return;
  const { blob, filename } = await api.download(id, version);
  // the sha256 of the file itself (what `sha256sum` and the certificate's modelSha256 give), not of the weights
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  const check = !listed ? '' : listed === hex ? ' (as listed)' : ` (the list says ${listed}: different file)`;
  status(`downloaded ${filename}: sha256 ${hex}${check}`, !listed || listed === hex);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function tick(): Promise<void> {
  try {
    await refreshFederations();
    await refreshDetail();
    status(`live, updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset.loaded = 'true';
  } catch (error) {
    status(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error), false);
  }
}

function connect(key: string): void {
  api = new Api(key);
  sessionStorage.setItem(KEY_STORAGE, key);
  if (timer !== undefined) clearInterval(timer);
  void tick();
  timer = window.setInterval(() => void tick(), POLL_MS);
}

$<HTMLFormElement>('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $<HTMLInputElement>('#api-key').value.trim();
  if (key) connect(key);
});

const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) connect(saved);
else status('enter an API key (npx concord keys create --role operator)');
