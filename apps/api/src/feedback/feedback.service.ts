import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { PredictionEntity, timeOrderedUuidTime } from '@app/database';
import { FeedbackConflictError, FeedbackStore, type LabelOutcome, type LabelTarget } from '@app/feedback';
import { PRODUCT_TYPE_CODES } from '@app/ml';
import type { Principal } from '../auth/principal.types';
import { MetricsService } from '../metrics/metrics.service';
import { PredictionRecorder } from '../prediction/prediction.recorder';
import type {
  FeedbackBatchItemDto,
  FeedbackBatchItemResultDto,
  FeedbackBatchResultDto,
  FeedbackDto,
} from './feedback.dto';

const KNOWN_CODES = new Set(PRODUCT_TYPE_CODES);

/**
 * A prediction answered by another API replica may still wait in that replica's write buffer (written every 200 ms,
 * longer while the database is slow). Its id carries its creation time: for one that a replica made in the last
 * RECENT_PREDICTION_MS, the label waits up to WAIT_FOR_ROW_MS for the row before the prediction is declared
 * unknown. Any other id (another UUID version or variant, made long ago, or later than now beyond the clock skew
 * between replicas) is answered at once.
 */
const RECENT_PREDICTION_MS = 30_000;
const CLOCK_SKEW_MS = 1_000;
const WAIT_FOR_ROW_MS = 3_000;
const POLL_MS = 100;

@Injectable()
export class FeedbackService {
  private readonly store: FeedbackStore;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly recorder: PredictionRecorder,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    this.store = new FeedbackStore(dataSource);
  }

  async label(predictionId: string, prdtypecode: number, principal: Principal): Promise<FeedbackDto> {
    try {
      const dto = await this.labelOne(predictionId, prdtypecode, principal);
      this.metrics.feedback.inc({ result: dto.result });
      return dto;
    } catch (error) {
      this.metrics.feedback.inc({ result: error instanceof ConflictException ? 'conflict' : 'rejected' });
      throw error;
    }
  }

  async labelBatch(items: FeedbackBatchItemDto[], principal: Principal): Promise<FeedbackBatchResultDto> {
    const limit = this.config.env.FEEDBACK_BATCH_LIMIT;
    if (items.length > limit) {
      throw new PayloadTooLargeException(
        `A feedback batch holds at most ${limit} labels (FEEDBACK_BATCH_LIMIT); this one has ${items.length}: split it`,
      );
    }
    const summary: Record<string, number> = { created: 0, unchanged: 0, overwritten: 0, rejected: 0 };
    const results: FeedbackBatchItemResultDto[] = [];
    for (const [index, item] of items.entries()) {
      try {
        const dto = await this.label(item.predictionId, item.prdtypecode, principal);
        summary[dto.result]++;
        results.push({
          index,
          predictionId: item.predictionId,
          status: dto.result === 'created' ? 201 : 200,
          result: dto.result,
        });
      } catch (error) {
        if (!(
          error instanceof BadRequestException ||
          error instanceof NotFoundException ||
          error instanceof ConflictException
        )) {
          throw error;
        }
        summary.rejected++;
        results.push({
          index,
          predictionId: item.predictionId,
          status: error.getStatus(),
          error: error.message,
        });
      }
    }
    return { items: results, summary };
  }

  private async labelOne(
    predictionId: string,
    prdtypecode: number,
    principal: Principal,
  ): Promise<FeedbackDto> {
    if (!KNOWN_CODES.has(prdtypecode)) {
      throw new BadRequestException(
        `prdtypecode ${prdtypecode} is not one of the 27 product type codes (${PRODUCT_TYPE_CODES.join(', ')})`,
      );
    }
    const everyone = principal.roles.some((role) => role === 'admin' || role === 'ml-engineer');
    const target = await this.findPrediction(predictionId);
    // To anyone but its owner, ML engineers and admins, another client's prediction does not exist.
    if (!target || (!everyone && target.requestedBy !== principal.name)) {
      throw new NotFoundException(`No prediction with id ${predictionId}`);
    }
    let outcome: LabelOutcome;
    try {
      outcome = await this.store.label(target, prdtypecode, {
        name: principal.name,
        mayOverwrite: principal.roles.includes('admin'),
      });
    } catch (error) {
      if (error instanceof FeedbackConflictError) throw new ConflictException(error.message);
      throw error;
    }
    const { feedback, result } = outcome;
    return {
      predictionId: feedback.predictionId,
      prdtypecode: feedback.truePrdtypecode,
      predictedPrdtypecode: feedback.predictedPrdtypecode,
      correct: feedback.truePrdtypecode === feedback.predictedPrdtypecode,
      modelVersion: feedback.modelVersion,
      result,
      reportedBy: feedback.reportedBy,
      labelledAt: feedback.labelledAt,
    };
  }

  private async findPrediction(id: string): Promise<(LabelTarget & { requestedBy: string | null }) | null> {
    const deadline = Date.now() + (this.isRecent(id) ? WAIT_FOR_ROW_MS : 0);
    for (;;) {
      const row =
        this.recorder.find(id) ??
        (await this.dataSource.getRepository(PredictionEntity).findOne({
          select: { id: true, modelVersion: true, prdtypecode: true, createdAt: true, requestedBy: true },
          where: { id },
        }));
      if (row || Date.now() >= deadline) return row ?? null;
      await new Promise((done) => setTimeout(done, POLL_MS));
    }
  }

  /** Whether an API replica could have made this prediction id a moment ago. */
  private isRecent(id: string): boolean {
    const madeAt = timeOrderedUuidTime(id);
    if (madeAt === undefined) return false;
    const age = Date.now() - madeAt;
    return age >= -CLOCK_SKEW_MS && age <= RECENT_PREDICTION_MS;
  }
}
