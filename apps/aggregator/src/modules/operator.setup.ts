import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { ServerConfig } from '../config/config.schema.js';
import { documentRoutes, documentYamlSpecBody, YAML_TYPES } from '../dtos/openapi-routes.js';
import { appLogger, createLogger, setAppLogger } from '../repositories/logger.repository.js';

/** The dashboard's built front end (apps/aggregator/web/dist, made by `npm run build:web`). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * What the operator surface adds to the app before it listens: pino logs at the configured level, the OpenAPI
 * document at /api/docs, and the dashboard's static files at / (when built).
 */
export function setupOperatorSurface(app: INestApplication, config: Pick<ServerConfig, 'logLevel'>): void {
  setAppLogger(createLogger(config.logLevel));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Concord dashboard API')
      .setDescription('Federations, enrollment tokens, sites, rounds, models, budgets, the privacy ledger, API keys')
      .setVersion('1')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'api-key')
      .build(),
  );
  documentRoutes(document);
  documentYamlSpecBody(document);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
  acceptYamlSpecs(app as NestExpressApplication);
  if (existsSync(WEB_DIST)) (app as NestExpressApplication).useStaticAssets(WEB_DIST, { index: 'index.html' });
  else appLogger().warn({ path: WEB_DIST }, 'dashboard not built: run npm run build:web');
}

/**
 * `POST /api/federations` with a YAML body (`curl --data-binary @spec.yaml -H 'content-type: application/yaml'`):
 * the text becomes `{ spec: text }`, then goes through the same parsing as a JSON body.
 */
function acceptYamlSpecs(app: NestExpressApplication): void {
  app.useBodyParser('text', { type: YAML_TYPES, limit: '1mb' });
  app.use(
    '/api/federations',
    (req: { method: string; path: string; body?: unknown }, _res: unknown, next: () => void) => {
      if (req.method === 'POST' && (req.path === '/' || req.path === '') && typeof req.body === 'string') {
        req.body = { spec: req.body };
      }
      next();
    },
  );
}
