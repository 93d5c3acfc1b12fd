/** The dashboard's client of /api: the key goes in the x-api-key header, never in a URL. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Paged<T> {
  items: T[];
  total: number;
}

export interface Federation {
  id: string;
  name: string;
  status: string;
  /** why it is not progressing (waiting for sites or budget, exhausted, database unreachable); null when it is */
  statusReason?: { code: string; message: string } | null;
  createdAt: string;
}

export interface RoundRow {
  id: string;
  number: number;
  /** training releases a model version; evaluation privately evaluates one */
  kind?: 'training' | 'evaluation';
  state: string;
  cohort: number;
  dropouts: number;
  stageTimings: Record<string, number>;
}

export interface ModelRow {
  version: number;
  /** sha256 of the float32 weights */
  sha256: string;
  /** sha256 of the safetensors file the download serves */
  fileSha256?: string | null;
  sizeBytes: number;
  watermarkId: string | null;
  metrics: Record<string, number | undefined>;
}

/** A metric with the std of its DP noise (undefined for an exact one). */
export interface Measured {
  value: number;
  std?: number;
}

/** A model version's quality, split by where it comes from. */
export interface Quality {
  /** the private federated evaluation on the sites' validation splits: noisy, each with its noise std */
  private: { accuracy?: Measured; loss?: Measured; rocAuc?: Measured };
  /** simulate/demo: the server's own held-out set at release, exact */
  heldOut: { accuracy?: number; loss?: number; rocAuc?: number };
}

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

export function qualityOf(m: ModelRow): Quality {
  const k = m.metrics;
  const measured = (name: string): Measured | undefined => {
    const value = num(k[name]);
    return value === undefined ? undefined : { value, std: num(k[`${name}Std`]) };
  };
  // Versions released before the held-out keys were renamed carry the server's exact metrics as plain
  // accuracy/loss without any *Std: those are held-out, not private.
  const isPrivate = num(k.lossStd) !== undefined;
  return {
    private: isPrivate ? { accuracy: measured('accuracy'), loss: measured('loss'), rocAuc: measured('rocAuc') } : {},
    heldOut: {
      accuracy: num(k.heldOutAccuracy) ?? (isPrivate ? undefined : num(k.accuracy)),
      loss: num(k.heldOutLoss) ?? (isPrivate ? undefined : num(k.loss)),
      rocAuc: num(k.heldOutRocAuc) ?? (isPrivate ? undefined : num(k.rocAuc)),
    },
  };
}

/** `0.912 ± 0.008`: value and std to the std's first significant decimal (at least 3 decimals). */
export function formatMeasured(m: Measured | undefined): string {
  if (!m) return '-';
  if (m.std === undefined || !(m.std > 0)) return m.value.toFixed(3);
  const digits = Math.min(6, Math.max(3, -Math.floor(Math.log10(m.std))));
  return `${m.value.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}

export interface SiteBudget {
  siteId: string;
  name: string;
  status: string;
  epsilonSpent: number;
  capEpsilon: number;
  remaining: number;
  charges: number;
}

export interface LedgerStatus {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string };
  findings: { seq: number; kind: string; message: string }[];
}

export class Api {
  constructor(private readonly key: string) {}

  private async request(path: string): Promise<Response> {
    const response = await fetch(path, { headers: { 'x-api-key': this.key } });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
      throw new ApiError(response.status, body.code ?? 'E_HTTP', body.message ?? response.statusText);
    }
    return response;
  }

  private async json<T>(path: string): Promise<T> {
    return (await this.request(path)).json() as Promise<T>;
  }

  federations = () => this.json<Paged<Federation>>('api/federations?limit=100');
  rounds = (id: string) => this.json<Paged<RoundRow>>(`api/federations/${id}/rounds?limit=15`);
  models = (id: string) => this.json<Paged<ModelRow>>(`api/federations/${id}/models?limit=500`);
  budgets = (id: string) => this.json<{ sites: SiteBudget[] }>(`api/federations/${id}/budgets`);
  ledger = (id: string) => this.json<LedgerStatus>(`api/federations/${id}/ledger/status`);

  async download(id: string, version: number): Promise<{ blob: Blob; filename: string }> {
    const response = await this.request(`api/federations/${id}/models/${version}/download`);
    const disposition = response.headers.get('content-disposition') ?? '';
    const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `model-v${version}.safetensors`;
    return { blob: await response.blob(), filename };
  }
}
