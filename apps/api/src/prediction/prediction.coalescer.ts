import { Injectable } from '@nestjs/common';
import type { Modality, Prediction, PredictionInput } from '@app/ml';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AppConfig } from '@app/config';
import { LoadShedder } from '../admission/load.shedder';
import { ModelServingService } from '../serving/model-serving.service';

export interface Classified {
  modelVersion: string;
  /** The version's acceptance threshold per modality (from AUTO_ACCEPT_PRECISION and its held-out curve). */
  thresholds: Record<Modality, number>;
  predictions: Prediction[];
}

interface Waiting {
  inputs: PredictionInput[];
  topK: number;
  deadline?: number;
  resolve: (result: Classified) => void;
  reject: (error: unknown) => void;
}

/** Most items scored together; beyond it, a request waits for the next round rather than grow the batch. */
const MAX_ITEMS = 64;

/**
 * Scores the requests that arrive within one turn of the event loop as one batch. Under concurrent load this
 * costs a request no extra wait (it would queue behind the others anyway) and the model scores a batch for less
 * per item than it scores items one by one (shared passes over its tables).
 *
 * Only inputs that cannot fail are merged (text, already checked): an error in one request must not fail
 * another, so inputs with images are scored on their own.
 */
@Injectable()
export class PredictionCoalescer {
  private waiting: Waiting[] = [];
  private waitingItems = 0;

  constructor(
    private readonly serving: ModelServingService,
    private readonly shedder: LoadShedder,
    private readonly config: AppConfig,
  ) {}

  /**
   * `deadline` (performance.now() time): a request not scored by then is refused with ShedError rather than
   * answered late.
   */
  classify(inputs: PredictionInput[], topK: number, deadline?: number): Promise<Classified> {
    if (inputs.some((input) => input.image)) {
      if (this.expired(deadline)) return Promise.reject(this.shedder.waitedTooLong());
      return this.score(inputs, topK);
    }
    return new Promise((resolve, reject) => {
      if (this.waitingItems + inputs.length > MAX_ITEMS) this.flush();
      if (this.waiting.length === 0) setImmediate(() => this.flush());
      this.waiting.push({ inputs, topK, deadline, resolve, reject });
      this.waitingItems += inputs.length;
    });
  }

  private expired(deadline: number | undefined): boolean {
    return deadline !== undefined && performance.now() > deadline;
  }

  private flush(): void {
    const round = this.waiting.filter((request) => {
      if (!this.expired(request.deadline)) return true;
      request.reject(this.shedder.waitedTooLong());
      return false;
    });
    this.waiting = [];
    this.waitingItems = 0;
    if (round.length === 0) return;
    const topK = Math.max(...round.map((request) => request.topK));
    this.score(
      round.flatMap((request) => request.inputs),
      topK,
    ).then(
      ({ modelVersion, thresholds, predictions }) => {
        let offset = 0;
        for (const request of round) {
          const own = predictions.slice(offset, (offset += request.inputs.length));
          request.resolve({
            modelVersion,
            thresholds,
            predictions: own.map((p) => ({ ...p, top: p.top.slice(0, request.topK) })),
          });
        }
      },
      (error: unknown) => round.forEach((request) => request.reject(error)),
    );
  }

  /**
   * Scores MAX_ITEMS at a time when the event loop does the scoring (SCORING_THREADS=0), yielding between slices:
   * a batch of 256 texts scored at once would hold every other request for its whole time.
   */
  private async score(inputs: PredictionInput[], topK: number): Promise<Classified> {
    const { model, release } = this.serving.acquire();
    const slice = this.config.env.SCORING_THREADS === 0 ? MAX_ITEMS : inputs.length;
    try {
      const predictions: Prediction[] = [];
      for (let start = 0; start < inputs.length; start += slice) {
        if (start > 0) await nextTurn();
        predictions.push(...(await model.classifier.predict(inputs.slice(start, start + slice), topK)));
      }
      return { modelVersion: model.version, thresholds: model.thresholds, predictions };
    } finally {
      release();
    }
  }
}
