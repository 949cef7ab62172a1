import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { AuditBoosts } from '@app/drift';
import { FeedbackConflictError } from '@app/feedback';
import { PRODUCT_TYPE_CODES } from '@app/ml';
import {
  ReviewItemClosedError,
  ReviewItemLeasedError,
  ReviewItemNotFoundError,
  ReviewQueue,
  type ReviewListing,
  type ReviewStats,
} from '@app/review';
import type { Principal } from '../auth/principal.types';
import { MetricsService } from '../metrics/metrics.service';
import type { ReviewDecisionDto, ReviewDecisionRequestDto, ReviewItemDto } from './review.dto';

const KNOWN_CODES = new Set(PRODUCT_TYPE_CODES);

/** The review routes over the queue: HTTP errors for the queue's refusals, a counter of decisions. */
@Injectable()
export class ReviewService implements OnModuleInit {
  readonly queue: ReviewQueue;
  private readonly decisions: Counter<'action' | 'reason'>;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    config: AppConfig,
    metrics: MetricsService,
    boosts: AuditBoosts,
  ) {
    const { AUDIT_SAMPLE_RATE, REVIEW_LEASE_SECONDS } = config.env;
    this.queue = new ReviewQueue(dataSource, {
      leaseSeconds: REVIEW_LEASE_SECONDS,
      // A drift alert raises a version's audit rate for a while (docs/drift.md): more random labels, sooner.
      auditRate: (version) => boosts.rateFor(version, AUDIT_SAMPLE_RATE),
    });
    this.decisions = new Counter({
      name: 'review_decisions_total',
      help: 'Review queue decisions: action labelled (reason: review or audit) or skipped (reason: the skip reason)',
      labelNames: ['action', 'reason'],
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    for (const reason of ['review', 'audit']) this.decisions.inc({ action: 'labelled', reason }, 0);
  }

  async next(principal: Principal): Promise<ReviewItemDto | null> {
    const listing = await this.queue.next(principal.name);
    return listing && this.toDto(listing);
  }

  async decide(id: string, body: ReviewDecisionRequestDto, principal: Principal): Promise<ReviewDecisionDto> {
    const { prdtypecode, skip } = body;
    if ((prdtypecode === undefined) === (skip === undefined)) {
      throw new BadRequestException(
        'give either prdtypecode (a label) or skip (a reason), not both and not neither',
      );
    }
    try {
      if (skip !== undefined) {
        await this.queue.skip(id, skip, principal.name);
        this.decisions.inc({ action: 'skipped', reason: skip });
        return { id, status: 'skipped', skip };
      }
      if (!KNOWN_CODES.has(prdtypecode!)) {
        throw new BadRequestException(
          `prdtypecode ${prdtypecode} is not one of the 27 product type codes (${PRODUCT_TYPE_CODES.join(', ')})`,
        );
      }
      const outcome = await this.queue.label(id, prdtypecode!, {
        name: principal.name,
        mayOverwrite: principal.roles.includes('admin'),
      });
      this.decisions.inc({ action: 'labelled', reason: outcome.source });
      return { id, status: 'labelled', prdtypecode, ...outcome };
    } catch (error) {
      if (error instanceof ReviewItemNotFoundError) throw new NotFoundException(error.message);
      if (
        error instanceof ReviewItemLeasedError ||
        error instanceof ReviewItemClosedError ||
        error instanceof FeedbackConflictError
      ) {
        throw new ConflictException(error.message);
      }
      throw error;
    }
  }

  stats(principal: Principal): Promise<ReviewStats> {
    return this.queue.stats(principal.name);
  }

  /** The photo's hash of an item in the queue (404 when the item or its photo is unknown). */
  async imageOf(id: string): Promise<string> {
    const sha = await this.queue.imageOf(id);
    if (sha === undefined) throw new NotFoundException(`No review item for prediction ${id}`);
    if (sha === null) throw new NotFoundException(`The listing ${id} has no photo`);
    return sha;
  }

  private toDto(listing: ReviewListing): ReviewItemDto {
    return {
      id: listing.id,
      modelVersion: listing.modelVersion,
      predictedAt: listing.predictedAt,
      reason: listing.reason,
      samplingProbability: listing.samplingProbability,
      margin: listing.margin,
      designation: listing.designation,
      description: listing.description,
      hasImage: listing.imageSha256 !== null,
      prdtypecode: listing.prdtypecode,
      top: listing.top,
      leaseUntil: listing.leaseUntil,
      duplicates: listing.duplicates,
    };
  }
}
