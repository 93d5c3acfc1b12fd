import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type Plugin,
} from 'chart.js';
import { formatMeasured, qualityOf, type ModelRow, type SiteBudget } from './api.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
);

type Series = (number | null)[];

/** The noise std of each point of a dataset (drawn as ± 1 std error bars by errorBars). */
const stdOf = new WeakMap<object, Series>();

/** Vertical ± 1 std bars with caps on every point of a dataset that has stds, in the dataset's colour. */
const errorBars: Plugin<'line'> = {
  id: 'concordErrorBars',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    chart.data.datasets.forEach((dataset, i) => {
      const stds = stdOf.get(dataset);
      if (!stds || !chart.isDatasetVisible(i)) return;
      const meta = chart.getDatasetMeta(i);
      const scale = chart.scales[meta.yAxisID ?? 'y'];
      ctx.save();
      ctx.strokeStyle = String(dataset.borderColor);
      ctx.lineWidth = 1.5;
      meta.data.forEach((point, j) => {
        const value = dataset.data[j];
        const std = stds[j];
        if (typeof value !== 'number' || std === null || std === undefined) return;
        const top = scale.getPixelForValue(value + std);
        const bottom = scale.getPixelForValue(value - std);
        ctx.beginPath();
        for (const y of [top, bottom]) {
          ctx.moveTo(point.x - 4, y);
          ctx.lineTo(point.x + 4, y);
        }
        ctx.moveTo(point.x, top);
        ctx.lineTo(point.x, bottom);
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

/**
 * Model quality per released version: the private federated evaluation's noisy accuracy, loss and (binary tables)
 * ROC AUC as points with ± 1 noise-std error bars, and where the server evaluated too (simulate, demo) its exact
 * held-out metrics as dashed lines. Accuracy and AUC on the left axis, loss on the right.
 */
export function qualityChart(canvas: HTMLCanvasElement): (models: ModelRow[]) => void {
  const privateSeries = (label: string, color: string, axis: string) => ({
    label,
    data: [] as Series,
    borderColor: color,
    backgroundColor: color,
    yAxisID: axis,
    pointRadius: 4,
    spanGaps: true,
  });
  const heldOutSeries = (label: string, color: string, axis: string) => ({
    label,
    data: [] as Series,
    borderColor: color,
    backgroundColor: color,
    yAxisID: axis,
    pointRadius: 2,
    borderWidth: 1.5,
    borderDash: [5, 4],
    spanGaps: true,
  });
  const chart = new Chart<'line', Series, string>(canvas, {
    type: 'line',
    data: {
      labels: [],
      datasets: [
        privateSeries('accuracy (private eval, ± noise std)', '#1f6feb', 'accuracy'),
        privateSeries('loss (private eval, ± noise std)', '#d1495b', 'loss'),
        privateSeries('ROC AUC (private eval, ± noise std)', '#2a9d8f', 'accuracy'),
        heldOutSeries('held-out accuracy (server test set)', '#7aa7f0', 'accuracy'),
        heldOutSeries('held-out loss (server test set)', '#e89aa5', 'loss'),
        heldOutSeries('held-out ROC AUC (server test set)', '#8fd1c8', 'accuracy'),
      ],
    },
    plugins: [errorBars],
    options: {
      animation: false,
      responsive: true,
      scales: {
        x: { title: { display: true, text: 'model version' } },
        accuracy: { type: 'linear', position: 'left', min: 0, max: 1, title: { display: true, text: 'accuracy' } },
        loss: {
          type: 'linear',
          position: 'right',
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'loss' },
        },
      },
      plugins: {
        // only the series that have data are listed
        legend: { labels: { filter: (item, data) => data.datasets[item.datasetIndex!].data.some((v) => v !== null) } },
        tooltip: {
          callbacks: {
            label: (item) => {
              const std = stdOf.get(item.dataset)?.[item.dataIndex];
              const value = formatMeasured({ value: item.parsed.y ?? NaN, std: std ?? undefined });
              return `${item.dataset.label?.replace(/ \(.*\)$/, '')}: ${value}`;
            },
          },
        },
      },
    },
  });
  return (models) => {
    const rows = models
      .map((m) => ({ version: m.version, q: qualityOf(m) }))
      .filter(
        ({ q }) => Object.values(q.private).some(Boolean) || Object.values(q.heldOut).some((v) => v !== undefined),
      );
    rows.sort((a, b) => a.version - b.version);
    chart.data.labels = rows.map((r) => String(r.version));
    const keys = ['accuracy', 'loss', 'rocAuc'] as const;
    keys.forEach((key, i) => {
      const measured = rows.map((r) => r.q.private[key]);
      const points = chart.data.datasets[i];
      points.data = measured.map((m) => m?.value ?? null);
      stdOf.set(
        points,
        measured.map((m) => m?.std ?? null),
      );
      points.hidden = measured.every((m) => m === undefined);
      const line = chart.data.datasets[3 + i];
      line.data = rows.map((r) => r.q.heldOut[key] ?? null);
      line.hidden = line.data.every((v) => v === null);
    });
    chart.update();
    canvas.dataset.points = String(rows.length);
    canvas.dataset.evaluatedPoints = String(rows.filter((r) => r.q.private.loss !== undefined).length);
    canvas.dataset.errorBars = String(
      rows.reduce((n, r) => n + keys.filter((k) => r.q.private[k]?.std !== undefined).length, 0),
    );
    canvas.dataset.rocAucPoints = String(
      rows.filter((r) => r.q.private.rocAuc !== undefined || r.q.heldOut.rocAuc !== undefined).length,
    );
  };
}

/** Each site's epsilon spent next to its cap. */
export function budgetChart(canvas: HTMLCanvasElement): (sites: SiteBudget[]) => void {
  const chart = new Chart<'bar', number[], string>(canvas, {
    type: 'bar',
    data: {
      labels: [],
      datasets: [
        { label: 'epsilon spent', data: [], backgroundColor: '#1f6feb' },
        { label: 'cap', data: [], backgroundColor: 'rgba(120, 120, 120, 0.35)' },
      ],
    },
    options: {
      animation: false,
      indexAxis: 'y',
      responsive: true,
      scales: { x: { min: 0, title: { display: true, text: 'epsilon (nats)' } } },
    },
  });
  return (sites) => {
    chart.data.labels = sites.map((s) => s.name);
    chart.data.datasets[0].data = sites.map((s) => s.epsilonSpent);
    chart.data.datasets[1].data = sites.map((s) => s.capEpsilon);
    chart.update();
    canvas.dataset.points = String(sites.length);
  };
}
