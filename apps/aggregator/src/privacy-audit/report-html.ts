/**
 * The audit's self-contained HTML report: inline SVG only (no script, no external resource), so it can be archived
 * beside a model and opened anywhere. Two charts: histograms of the included and excluded canaries' scores, and
 * the lower bounds beside the charged epsilon.
 */
import type { AuditResult } from './run-audit.js';

const W = 720;
const H = 260;
const PAD = 40;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : 'infinite';
}

function histogram(r: AuditResult, bins = 40): string {
  const finite = r.scores.filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const width = hi > lo ? (hi - lo) / bins : 1;
  const inc = new Array<number>(bins).fill(0);
  const exc = new Array<number>(bins).fill(0);
  r.scores.forEach((s, i) => {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((s - lo) / width)));
    (r.included[i] ? inc : exc)[b]++;
  });
  const top = Math.max(1, ...inc, ...exc);
  const bw = (W - 2 * PAD) / bins;
  const bar = (counts: number[], colour: string) =>
    counts
      .map((c, b) => {
        const h = ((H - 2 * PAD) * c) / top;
        return `<rect x="${(PAD + b * bw).toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${colour}" fill-opacity="0.55"/>`;
      })
      .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="canary score histograms">
<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#333"/>
${bar(exc, '#1f77b4')}${bar(inc, '#d62728')}
<text x="${PAD}" y="${H - 12}" font-size="12">${esc(fmt(lo))}</text>
<text x="${W - PAD}" y="${H - 12}" font-size="12" text-anchor="end">${esc(fmt(hi))}</text>
<text x="${W / 2}" y="${H - 12}" font-size="12" text-anchor="middle">canary score (accumulated projection, units of the clipped gradient)</text>
<rect x="${W - 200}" y="12" width="12" height="12" fill="#d62728" fill-opacity="0.55"/><text x="${W - 182}" y="22" font-size="12">included (${r.analysis.included})</text>
<rect x="${W - 200}" y="30" width="12" height="12" fill="#1f77b4" fill-opacity="0.55"/><text x="${W - 182}" y="40" font-size="12">excluded (${r.canaries - r.analysis.included})</text>
</svg>`;
}

function bounds(r: AuditResult): string {
  const rows: [string, number, string][] = [
    ['charged by the ledger (RDP accountant)', r.charged.epsilon, '#555'],
    ['lower bound, one-run (Steinke et al. 2023) — rigorous', r.analysis.oneRun.epsilon, '#2ca02c'],
    ['lower bound, f-DP (Mahloujifar et al. 2025) — rigorous for μ-GDP', r.analysis.fdp.epsilon, '#9467bd'],
    ['Gaussian pair — asymptotic, heuristic', r.analysis.gaussianPair.epsilon, '#ff7f0e'],
  ];
  const top = Math.max(r.charged.epsilon * 1.2, ...rows.map((x) => (Number.isFinite(x[1]) ? x[1] : 0)));
  const bh = 26;
  const labelW = 400;
  const body = rows
    .map(([label, v, colour], i) => {
      const y = 10 + i * (bh + 8);
      const len = ((W - labelW - 80) * Math.min(Number.isFinite(v) ? v : top, top)) / top;
      return `<text x="0" y="${y + 17}" font-size="12">${esc(label)}</text><rect x="${labelW}" y="${y}" width="${len.toFixed(1)}" height="${bh}" fill="${colour}"/><text x="${labelW + len + 6}" y="${y + 17}" font-size="12">${esc(fmt(v))}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${10 + rows.length * (bh + 8)}" role="img" aria-label="epsilon bounds">${body}</svg>`;
}

export function renderAuditHtml(r: AuditResult): string {
  const a = r.analysis;
  const title = `Concord privacy audit — ${r.mode}, ${r.canaries} canaries`;
  const verdict = r.exceedsCharge
    ? `<p style="color:#b00"><b>Finding:</b> the rigorous lower bound ${fmt(a.oneRun.epsilon)} exceeds the charged epsilon ${fmt(r.charged.epsilon)} (a false alarm has probability at most ${(1 - a.confidence).toFixed(2)}).</p>`
    : `<p>The rigorous lower bound does not exceed the charged epsilon: no violation detected (this does not prove the claim; see docs/privacy-audit.md).</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:780px;margin:2em auto;color:#222}td,th{padding:2px 8px;text-align:left}</style></head><body>
<h1>${esc(title)}</h1>
${verdict}
<table>
<tr><th>mode</th><td>${esc(r.mode)}${r.removeNoise ? ' (NEGATIVE CONTROL: noise removed)' : ''}</td></tr>
<tr><th>rounds x steps, sampling rate</th><td>${r.rounds} x ${r.steps}, q = ${r.sampleRate}</td></tr>
<tr><th>charged</th><td>epsilon ${fmt(r.charged.epsilon)} at delta ${r.charged.delta} (noise multiplier ${r.charged.noiseMultiplier.toFixed(4)})</td></tr>
<tr><th>confidence</th><td>${a.confidence}; guesses swept over ${a.sweep.length} (k+, k-) pairs fixed in advance, Bonferroni-corrected</td></tr>
<tr><th>best guesses</th><td>k+ = ${a.oneRun.best.kPlus}, k- = ${a.oneRun.best.kMinus}: ${a.oneRun.best.correct} / ${a.oneRun.best.guesses} correct</td></tr>
<tr><th>f-DP</th><td>not μ-GDP for μ below ${fmt(a.fdp.mu)}</td></tr>
<tr><th>Gaussian pair</th><td>gap ${fmt(a.gaussianPair.mu)} standard deviations (lower limit ${fmt(a.gaussianPair.muLower)}), point estimate ${fmt(a.gaussianPair.estimate)}</td></tr>
<tr><th>time</th><td>${r.seconds.toFixed(1)} s</td></tr>
</table>
<h2>Epsilon</h2>
${bounds(r)}
<h2>Canary scores</h2>
${histogram(r)}
</body></html>
`;
}
