import { Api, ApiError, type Federation } from './api.js';
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
          String(r.cohort),
          String(r.dropouts),
          Object.entries(r.stageTimings)
            .map(([stage, ms]) => `${stage} ${Math.round(ms)}`)
            .join(', '),
        ],
        { 'data-round': String(r.number) },
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
        void downloadModel(id, m.version);
      });
      const sha = document.createElement('code');
      sha.textContent = m.sha256.slice(0, 16);
      return row([String(m.version), fmt(m.metrics.accuracy), fmt(m.metrics.loss), sha, link], {
        'data-version': String(m.version),
      });
    }),
  );
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

async function downloadModel(id: string, version: number): Promise<void> {
  if (!api) return;
  const { blob, filename } = await api.download(id, version);
  // the sha256 of the file itself (what `sha256sum` and the certificate's modelSha256 give), not of the weights
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  status(`downloaded ${filename}: sha256 ${hex}`);
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
