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
} from 'chart.js';
import type { ModelRow, SiteBudget } from './api.js';

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

/** Accuracy and, for binary tables, ROC AUC (left axis) and loss (right axis) of each released model version. */
export function qualityChart(canvas: HTMLCanvasElement): (models: ModelRow[]) => void {
  const chart = new Chart<'line', (number | null)[], string>(canvas, {
    type: 'line',
    data: {
      labels: [],
      datasets: [
        { label: 'accuracy', data: [], borderColor: '#1f6feb', yAxisID: 'accuracy', pointRadius: 2 },
        { label: 'loss', data: [], borderColor: '#d1495b', yAxisID: 'loss', pointRadius: 2 },
        { label: 'ROC AUC', data: [], borderColor: '#2a9d8f', yAxisID: 'accuracy', pointRadius: 2, hidden: true },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      scales: {
        x: { title: { display: true, text: 'model version (round)' } },
        accuracy: { type: 'linear', position: 'left', min: 0, max: 1 },
        loss: { type: 'linear', position: 'right', grid: { drawOnChartArea: false } },
      },
    },
  });
  return (models) => {
    const rows = models.filter((m) => m.metrics.accuracy !== undefined || m.metrics.loss !== undefined);
    rows.sort((a, b) => a.version - b.version);
    chart.data.labels = rows.map((m) => String(m.version));
    chart.data.datasets[0].data = rows.map((m) => m.metrics.accuracy ?? null);
    chart.data.datasets[1].data = rows.map((m) => m.metrics.loss ?? null);
    chart.data.datasets[2].data = rows.map((m) => m.metrics.rocAuc ?? null);
    chart.data.datasets[2].hidden = rows.every((m) => m.metrics.rocAuc === undefined);
    chart.update();
    canvas.dataset.points = String(rows.length);
    canvas.dataset.rocAucPoints = String(rows.filter((m) => m.metrics.rocAuc !== undefined).length);
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
