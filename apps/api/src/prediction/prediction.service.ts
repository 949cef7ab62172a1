import {
  BadRequestException,
  Injectable,
  NotFoundException,
  PayloadTooLargeException,
  UnprocessableEntityException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { PredictionEntity, timeOrderedUuid } from '@app/database';
import { sha256 } from '@app/checksum';
import { decide, ImageDecoder, ImageTooLargeError, InvalidInputError, sniffImageFormat } from '@app/ml';
import { MetricsService } from '../metrics/metrics.service';
import type {
  BatchPredictionResponseDto,
  PredictionResponseDto,
  StoredPredictionDto,
} from './prediction.dto';
import { PredictionImageSaver } from './prediction-image.saver';
import { PredictionCoalescer } from './prediction.coalescer';
import { PredictionRecorder, type PredictionRecord } from './prediction.recorder';

/** One product to classify, with its image already out of the request (base64 or multipart). */
export interface PredictionItem {
  designation?: string;
  description?: string;
  image?: Buffer;
}

const DEFAULT_TOP_K = 5;

@Injectable()
export class PredictionService {
  constructor(
    private readonly coalescer: PredictionCoalescer,
    private readonly recorder: PredictionRecorder,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    private readonly imageDecoder: ImageDecoder,
    private readonly imageSaver: PredictionImageSaver,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Decodes a base64 image field, enforcing the size limit before the bytes are ever decoded as an image. */
  imageFromBase64(base64: string | null | undefined, label: string): Buffer | undefined {
    // null means no photo, as it does for a description: clients send the columns they have.
    if (base64 === undefined || base64 === null || base64 === '') return undefined;
    // base64 carries 3 bytes per 4 characters: refuse before allocating anything large.
    if (Math.floor((base64.length * 3) / 4) > this.config.env.MAX_IMAGE_BYTES + 2) this.tooLarge(label);
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.byteLength > this.config.env.MAX_IMAGE_BYTES) this.tooLarge(label);
    return bytes;
  }

  /**
   * Classifies the items and decides for each whether it is accepted automatically or needs review: against the
   * caller's `minConfidence` when given, else the serving version's threshold for the item's modality.
   */
  async predict(
    items: PredictionItem[],
    topK = DEFAULT_TOP_K,
    requestedBy: string | null = null,
    deadline?: number,
    minConfidence?: number | null,
  ): Promise<BatchPredictionResponseDto> {
    const limit = this.config.env.PREDICTION_BATCH_LIMIT;
    if (items.length > limit) {
      throw new PayloadTooLargeException(
        `A batch holds at most ${limit} items (PREDICTION_BATCH_LIMIT); this one has ${items.length}: split it`,
      );
    }
    const where = (index: number) => (items.length > 1 ? `items[${index}]` : 'the request');
    items.forEach((item, index) => this.checkItem(item, where(index)));
    await Promise.all(items.map((item, index) => this.checkImageSize(item, where(index))));
    this.recorder.assertCapacity(items.length);
    const started = process.hrtime.bigint();
    let classified;
    try {
      classified = await this.coalescer.classify(items, topK, deadline);
    } catch (error) {
      if (error instanceof InvalidInputError) {
        const where = items.length > 1 ? `items[${error.index}]` : 'the request';
        throw new UnprocessableEntityException(`${where}: ${error.message.replace(/^item \d+: /, '')}`);
      }
      throw error;
    }
    const { modelVersion, thresholds, predictions } = classified;
    // null (a client sending every field it has) asks for nothing, as an absent field does.
    const own = minConfidence ?? undefined;
    const thresholdSource = own === undefined ? 'version' : 'request';
    const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const perItemMs = latencyMs / items.length;
    const createdAt = new Date();
    const imageShas = items.map((item) => (item.image ? sha256(item.image) : null));
    const answers: PredictionResponseDto[] = predictions.map((p) => {
      const threshold = own ?? thresholds[p.modality];
      return {
        id: timeOrderedUuid(createdAt.getTime()),
        prdtypecode: p.prdtypecode,
        category: p.category,
        probability: p.probability,
        top: p.top,
        modality: p.modality,
        decision: decide(p.probability, threshold),
        threshold,
        ...(p.warnings && { warnings: p.warnings }),
        modelVersion,
        latencyMs: perItemMs,
      };
    });
    this.recorder.record(
      answers.map((answer, i): PredictionRecord => ({
        id: answer.id,
        createdAt,
        modelVersion,
        prdtypecode: answer.prdtypecode,
        probability: answer.probability,
        top: answer.top,
        modality: answer.modality,
        designation: items[i].designation ?? '',
        description: items[i].description ?? null,
        imageSha256: imageShas[i],
        latencyMs: perItemMs,
        requestedBy,
        decision: answer.decision,
        decisionThreshold: answer.threshold,
      })),
    );
    // Kept for training once labels arrive; saved after the response, never delaying or failing it.
    items.forEach(({ image }, i) => {
      if (image?.byteLength) this.imageSaver.keep(image, imageShas[i]!);
    });
    for (const answer of answers) {
      this.metrics.predictions.inc({ model_version: modelVersion, prdtypecode: String(answer.prdtypecode) });
      this.metrics.decisions.inc({
        model_version: modelVersion,
        decision: answer.decision,
        threshold_source: thresholdSource,
      });
    }
    return { modelVersion, predictions: answers, latencyMs };
  }

  /** A stored prediction; with `requestedBy`, only one that this caller made (others are reported as not found). */
  async findOne(id: string, requestedBy?: string): Promise<StoredPredictionDto> {
    const row =
      this.recorder.find(id) ??
      (await this.dataSource.getRepository(PredictionEntity).findOne({ where: { id } }));
    if (!row || (requestedBy !== undefined && row.requestedBy !== requestedBy)) {
      throw new NotFoundException(`No prediction with id ${id}`);
    }
    return {
      id: row.id,
      createdAt: row.createdAt.toISOString(),
      prdtypecode: row.prdtypecode,
      category: row.top[0]?.category ?? String(row.prdtypecode),
      probability: row.probability,
      top: row.top,
      modality: row.modality as StoredPredictionDto['modality'],
      modelVersion: row.modelVersion,
      latencyMs: row.latencyMs,
      decision: row.decision ?? null,
      threshold: row.decisionThreshold ?? null,
      designation: row.designation,
      description: row.description,
      imageSha256: row.imageSha256,
    };
  }

  private checkItem(item: PredictionItem, where: string): void {
    if (!item.designation?.trim() && !item.image?.byteLength) {
      throw new BadRequestException(`${where}: give a designation (the product title) or an image`);
    }
    if (item.image?.byteLength && sniffImageFormat(item.image) === undefined) {
      throw new UnsupportedMediaTypeException(`${where}: the image is not a JPEG, PNG or WebP file`);
    }
  }

  /**
   * Refuses an image whose header claims more pixels than a photo has, for every model (with or without an image
   * part), before the request waits for a decode. A header that cannot be read is left to the decoder's 422.
   */
  private async checkImageSize(item: PredictionItem, where: string): Promise<void> {
    if (!item.image?.byteLength) return;
    try {
      await this.imageDecoder.check(item.image);
    } catch (error) {
      if (!(error instanceof ImageTooLargeError)) return;
      const { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE } = this.config.env;
      const limits = [
        error.pixelsExceeded ? `${MAX_IMAGE_PIXELS} pixels (MAX_IMAGE_PIXELS)` : undefined,
        error.sideExceeded ? `${MAX_IMAGE_SIDE} pixels a side (MAX_IMAGE_SIDE)` : undefined,
      ].filter((limit) => limit !== undefined);
      throw new UnprocessableEntityException(
        `${where}: the image is ${error.width}×${error.height} pixels; at most ${limits.join(' and ')} ` +
          `are accepted: send a smaller image`,
      );
    }
  }

  private tooLarge(label: string): never {
    throw new PayloadTooLargeException(
      `${label} is larger than ${this.config.env.MAX_IMAGE_BYTES} bytes (MAX_IMAGE_BYTES): send a smaller image`,
    );
  }
}
