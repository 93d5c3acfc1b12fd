/**
 * The dashboard in real Chromium (Debian's /usr/bin/chromium driven by playwright-core) against a running aggregator
 * whose federation is in progress: rounds released and one training, model versions with accuracy/loss, sites
 * charged in the privacy ledger. Checks that the page loads, both charts render with data, each site's budget
 * equals the API's, a new round appears without a reload, an evaluation round's noisy metrics show as
 * `0.912 ± 0.008` with error bars and the round is marked `evaluation`, and a model downloads as safetensors. Screenshot:
 * artifacts/dashboard.png. (The federation's rows are written directly, not by live agents: a real MNIST
 * federation would not fit a default-run test on this machine.)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverConfigSchema } from '../../apps/aggregator/src/config/config.schema.js';
import { federations, modelVersions, rounds } from '../../apps/aggregator/src/db/schema/index.js';
import { settingsFromSpec } from '../../apps/aggregator/src/federation/settings-from-spec.js';
import { WEB_DIST } from '../../apps/aggregator/src/modules/operator.setup.js';
import { LedgerRepository } from '../../apps/aggregator/src/repositories/ledger.repository.js';
import { ModelVersionRepository } from '../../apps/aggregator/src/repositories/model-version.repository.js';
import { startServer, type RunningServer } from '../../apps/aggregator/src/server.js';
import { ApiKeyService } from '../../apps/aggregator/src/services/api-key.service.js';
import { parse as parseYaml } from 'yaml';
import { createFixture, nextCharge, type Fixture } from '../medium/ledger-fixtures.js';
import { openTestPglite, type TestDatabase } from '../support/databases.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`[browser test] ${CHROMIUM} is missing: the dashboard test is SKIPPED (apt-get install chromium)`);

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  let keyDir: string;
  let operatorKey: string;
  let fixture: Fixture;
  let inputSize: number;
  let units: number;

  async function release(roundIndex: number, accuracy: number, loss: number, rocAuc?: number): Promise<void> {
    const roundId = fixture.roundIds[roundIndex];
    await database.db
      .update(rounds)
      .set({ state: 'released', stageTimings: { training: 900 + roundIndex, unmask: 40, aggregate: 5 } })
      .where(eq(rounds.id, roundId));
    const weights = new Float32Array(inputSize * units + units).map((_, i) => Math.sin(i + roundIndex) / 10);
    await database.db.insert(modelVersions).values({
      federationId: fixture.federationId,
      roundId,
      version: roundIndex + 1,
      sha256: 'ab'.repeat(32),
      sizeBytes: weights.byteLength,
      weights: new Uint8Array(weights.buffer),
      // what the release stage writes from simulate's / demo's server-side evaluation
      metrics: {
        heldOutAccuracy: accuracy,
        heldOutLoss: loss,
        ...(rocAuc === undefined ? {} : { heldOutRocAuc: rocAuc }),
      },
    });
  }

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIST, 'index.html'))) {
      const built = spawnSync('npm', ['run', 'build:web', '--workspace', '@concord/aggregator'], { encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`dashboard build failed: ${built.stderr}`);
    }
    process.env.CONCORD_NO_AUTORUN = '1';
    keyDir = mkdtempSync(join(tmpdir(), 'concord-browser-'));
    database = await openTestPglite();
    server = await startServer({
      config: serverConfigSchema.parse({ port: 0, keyDir, dataDir: 'memory', logLevel: 'silent', noAutorun: true }),
      database,
    });
    operatorKey = (await server.app.get(ApiKeyService).create({ role: 'operator', name: 'browser' })).key;

    // A federation in progress: 3 sites, rounds 1-2 released, round 3 training, every participant charged.
    fixture = await createFixture(database.db, 3, 4, 'dashboard');
    const yaml = readFileSync(new URL('../../examples/mnist.yaml', import.meta.url), 'utf8');
    const { settings } = settingsFromSpec(parseYaml(yaml));
    inputSize = settings.model.inputSize;
    units = settings.model.layers[0].units;
    await database.db
      .update(federations)
      .set({ name: 'mnist-browser', spec: settings as unknown as Record<string, unknown> })
      .where(eq(federations.id, fixture.federationId));
    const ledger = new LedgerRepository(database.db);
    for (const roundId of fixture.roundIds.slice(0, 3)) {
      for (const site of fixture.sites) await ledger.append(database.db, nextCharge(fixture, site, roundId));
    }
    await release(0, 0.61, 1.2);
    await release(1, 0.78, 0.74);
    await database.db.update(rounds).set({ state: 'training' }).where(eq(rounds.id, fixture.roundIds[2]));

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  it('shows charts with data, budgets equal to the API, live rounds, and downloads a model', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/`);
    await page.fill('#api-key', operatorKey);
    await page.click('#key-form button');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });

    await page.waitForSelector('#quality-chart[data-points="2"]', { timeout: 10_000 });
    await page.waitForSelector(`#budget-chart[data-points="${fixture.sites.length}"]`, { timeout: 10_000 });
    const painted = await page.evaluate(() =>
      ['#quality-chart', '#budget-chart'].map((selector) => {
        const canvas = document.querySelector(selector) as HTMLCanvasElement;
        const blank = document.createElement('canvas');
        blank.width = canvas.width;
        blank.height = canvas.height;
        return canvas.width > 0 && canvas.toDataURL() !== blank.toDataURL();
      }),
    );
    expect(painted).toEqual([true, true]);

    const api = await fetch(`${server.url}/api/federations/${fixture.federationId}/budgets`, {
      headers: { 'x-api-key': operatorKey },
    }).then((r) => r.json() as Promise<{ sites: Array<{ siteId: string; epsilonSpent: number }> }>);
    const shown = await page.$$eval('#budgets tbody tr', (trs) =>
      trs.map((tr) => ({ siteId: tr.getAttribute('data-site-id'), epsilon: Number(tr.getAttribute('data-epsilon')) })),
    );
    expect(shown).toHaveLength(3);
    for (const site of api.sites) {
      expect(site.epsilonSpent).toBeGreaterThan(0);
      expect(shown.find((s) => s.siteId === site.siteId)?.epsilon).toBe(site.epsilonSpent);
    }
    expect(await page.getAttribute('#ledger-status', 'data-ok')).toBe('true');
    expect(await page.textContent('#rounds tbody tr[data-round="3"] td:nth-child(2)')).toBe('training');

    // the round in progress is released: the page follows without a reload
    expect(await page.getAttribute('#quality-chart', 'data-roc-auc-points')).toBe('0');
    await release(2, 0.85, 0.5, 0.88); // a binary table's metrics: the ROC AUC series appears
    await page.waitForSelector('#quality-chart[data-points="3"]', { timeout: 10_000 });
    expect(await page.getAttribute('#quality-chart', 'data-roc-auc-points')).toBe('1');
    await page.waitForFunction(
      () => document.querySelector('#rounds tbody tr[data-round="3"] td:nth-child(2)')?.textContent === 'released',
      undefined,
      { timeout: 10_000 },
    );

    // an evaluation round privately evaluates version 2: its noisy metrics with their noise std are merged in
    expect(await page.getAttribute('#quality-chart', 'data-evaluated-points')).toBe('0');
    await database.db
      .update(rounds)
      .set({ kind: 'evaluation', state: 'released', stageTimings: { training: 700, evaluate: 3 } })
      .where(eq(rounds.id, fixture.roundIds[3]));
    await new ModelVersionRepository(database.db).addMetrics(fixture.federationId, 2, {
      accuracy: 0.912,
      accuracyStd: 0.008,
      loss: 0.3104,
      lossStd: 0.0213,
      evaluatedRecords: 3000,
      evaluatedRecordsStd: 41,
      evaluatedSites: 3,
    });
    await page.waitForSelector('#quality-chart[data-evaluated-points="1"]', { timeout: 10_000 });
    expect(await page.getAttribute('#quality-chart', 'data-error-bars')).toBe('2'); // accuracy and loss
    expect(await page.getAttribute('#quality-chart', 'data-points')).toBe('3');
    const cells = await page.$$eval('#models tbody tr[data-version="2"] td', (tds) => tds.map((td) => td.textContent));
    expect(cells.slice(1, 3)).toEqual(['0.912 ± 0.008', '0.310 ± 0.021']);
    expect(cells[4]).toBe('0.7800'); // the server's held-out accuracy stays beside it, not overwritten
    expect(await page.getAttribute('#models tbody tr[data-version="2"] td:nth-child(2) span', 'data-std')).toBe(
      '0.008',
    );
    expect(await page.textContent('#models tbody tr[data-version="1"] td:nth-child(2)')).toBe('-');
    await page.waitForSelector('#rounds tbody tr[data-round="4"][data-kind="evaluation"] .kind-evaluation', {
      timeout: 10_000,
    });
    expect(await page.textContent('#rounds tbody tr[data-round="3"] .kind')).toBe('training');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#models tbody tr[data-version="2"] a'),
    ]);
    expect(download.suggestedFilename()).toBe('mnist-browser-v2.safetensors');
    // the sha256 the list shows is the downloaded file's own (not the weights' 'abab...')
    const file = readFileSync(await download.path());
    const fileSha = createHash('sha256').update(file).digest('hex');
    expect(await page.getAttribute('#models tbody tr[data-version="2"] code', 'data-sha256')).toBe(fileSha);
    await page.waitForFunction(() => document.querySelector('#connection')?.textContent?.includes('(as listed)'));
    expect(await page.textContent('#connection')).toContain(fileSha);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 90_000);
});
