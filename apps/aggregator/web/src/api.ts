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
  state: string;
  cohort: number;
  dropouts: number;
  stageTimings: Record<string, number>;
}

export interface ModelRow {
  version: number;
  sha256: string;
  sizeBytes: number;
  watermarkId: string | null;
  metrics: { accuracy?: number; loss?: number; rocAuc?: number; prAuc?: number; logLoss?: number };
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
