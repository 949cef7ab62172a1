import { DataSource, In, MoreThanOrEqual } from 'typeorm';
import { FeedbackEntity, type FeedbackSource } from '@app/database';
import { evaluateClassification, type ClassMetrics } from '@app/classification-metrics';

export interface LiveWindow {
  /** Labels older than this are left out. */
  minutes: number;
  /** At most this many labels per version, the most recent. */
  size: number;
  /** Fewer labels than this: the figures are shown, but say little (the alert waits for this many). */
  minSamples: number;
}

/** A version's live figures, computed like offline evaluation (evaluateClassification) on its labelled predictions. */
export interface VersionQuality {
  modelVersion: string;
  samples: number;
  enoughSamples: boolean;
  weightedF1: number;
  macroF1: number;
  accuracy: number;
  /** The labels the window holds: the oldest and newest label times. */
  from: Date;
  to: Date;
  perClass: ClassMetrics[];
  /** Rows: true code, columns: predicted code, over `labels`. */
  confusion: { labels: number[]; matrix: number[][] };
}

/**
 * The labels whose predictions were chosen independently of how hard they are: their callers' (consumer) and the
 * random audit sample. The figure the alert reads comes from these alone; review labels come from the uncertain
 * end of the traffic and would drag it down on a healthy model.
 */
export const SAMPLED_SOURCES: readonly FeedbackSource[] = ['consumer', 'audit'];

/** The labels reviewers gave to the predictions the model was least sure of: reported apart. */
export const REVIEW_SOURCES: readonly FeedbackSource[] = ['review'];

/**
 * Live quality per model version over a sliding window of its labelled predictions, from labels of the given
 * sources (by default the sampled ones). The figures come from the database alone, so every API replica computes
 * the same ones.
 */
export class LiveQuality {
  constructor(
    private readonly dataSource: DataSource,
    private readonly classes: readonly number[],
    private readonly sources: readonly FeedbackSource[] = SAMPLED_SOURCES,
  ) {}

  async compute(window: LiveWindow, now = new Date()): Promise<VersionQuality[]> {
    const since = new Date(now.getTime() - window.minutes * 60_000);
    const rows = this.dataSource.getRepository(FeedbackEntity);
    const versions: { version: string }[] = await rows
      .createQueryBuilder('f')
      .select('f.modelVersion', 'version')
      .distinct(true)
      .where('f.labelledAt >= :since', { since })
      .andWhere('f.source IN (:...sources)', { sources: this.sources })
      .orderBy('f.modelVersion')
      .getRawMany();
    const qualities: VersionQuality[] = [];
    for (const { version } of versions) {
      const labels = await rows.find({
        select: { truePrdtypecode: true, predictedPrdtypecode: true, labelledAt: true },
        where: { modelVersion: version, labelledAt: MoreThanOrEqual(since), source: In([...this.sources]) },
        order: { labelledAt: 'DESC', predictionId: 'DESC' },
        take: window.size,
      });
      if (labels.length === 0) continue;
      const report = evaluateClassification(
        labels.map((l) => l.truePrdtypecode),
        labels.map((l) => l.predictedPrdtypecode),
        [...this.classes],
      );
      qualities.push({
        modelVersion: version,
        samples: report.n,
        enoughSamples: report.n >= window.minSamples,
        weightedF1: report.weighted_f1,
        macroF1: report.macro_f1,
        accuracy: report.accuracy,
        from: labels[labels.length - 1].labelledAt,
        to: labels[0].labelledAt,
        perClass: report.per_class,
        confusion: report.confusion_matrix,
      });
    }
    return qualities;
  }
}
