import { Controller, Get, Inject, Param, Res, UseGuards } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { IdSchema } from '../dtos/operator.dto.js';
import { ApiKeyGuard, Principal, Roles } from '../guards/api-key.guard.js';
import { ZodPipe } from '../pipes/zod.pipe.js';
import type { ApiPrincipal } from '../services/api-key.service.js';
import { BudgetsService } from '../services/budgets.service.js';

const FederationId = new ZodPipe(IdSchema, 'federationId');

/** What auditors read: budgets recomputed from the ledger, the ledger's status, and its JSON-lines export. */
@ApiTags('ledger and budgets')
@ApiSecurity('api-key')
@Controller('api/federations/:federationId')
@UseGuards(ApiKeyGuard)
@Roles('operator', 'auditor')
export class LedgerController {
  constructor(@Inject(BudgetsService) private readonly budgets: BudgetsService) {}

  @Get('budgets')
  @Roles('operator', 'auditor', 'site')
  budgetList(@Param('federationId', FederationId) id: string, @Principal() principal: ApiPrincipal) {
    return this.budgets.budgets(id, principal);
  }

  @Get('ledger')
  async export(@Param('federationId', FederationId) id: string, @Res() res: Response) {
    const text = await this.budgets.ledgerExport(id);
    res.attachment(`ledger-${id}.jsonl`).type('application/x-ndjson').send(text);
  }

  @Get('ledger/status')
  status(@Param('federationId', FederationId) id: string) {
    return this.budgets.ledgerStatus(id);
  }
}
