import { DataSource, In } from 'typeorm';
import { FeedbackEntity, PredictionEntity } from '@app/database';

/** A labelled prediction as a training row: what was sent (text, photo hash) and the true code reported for it. */
export interface FeedbackExample {
  predictionId: string;
  /** The true product type code (the label). */
  prdtypecode: number;
  labelledAt: Date;
  designation: string;
  description: string | null;
  /** sha256 of the photo sent with the prediction (PredictionImages), null when none was sent. */
  imageSha256: string | null;
}

export interface FeedbackExport {
  /** Oldest label first (labelled_at, then prediction id). */
  examples: FeedbackExample[];
  /**
   * Labels whose prediction row is not in the database (the label has no foreign key: it may be reported while the
   * prediction still waits in an API replica's write buffer, and one that was never written stays missing).
   */
  missingPredictions: number;
}

/** Predictions looked up per query: well under both drivers' limits on bound parameters. */
const CHUNK = 500;

/** Every labelled prediction, joined with the prediction it labels, for retraining. */
export class FeedbackExamples {
  constructor(private readonly dataSource: DataSource) {}

  async load(): Promise<FeedbackExport> {
    const labels = await this.dataSource.getRepository(FeedbackEntity).find({
      select: { predictionId: true, truePrdtypecode: true, labelledAt: true },
      order: { labelledAt: 'ASC', predictionId: 'ASC' },
    });
    const predictions = new Map<
      string,
      Pick<PredictionEntity, 'designation' | 'description' | 'imageSha256'>
    >();
    for (let start = 0; start < labels.length; start += CHUNK) {
      const ids = labels.slice(start, start + CHUNK).map((label) => label.predictionId);
      const rows = await this.dataSource.getRepository(PredictionEntity).find({
        select: { id: true, designation: true, description: true, imageSha256: true },
        where: { id: In(ids) },
      });
      for (const row of rows) predictions.set(row.id, row);
    }
    const examples: FeedbackExample[] = [];
    for (const label of labels) {
      const prediction = predictions.get(label.predictionId);
      if (!prediction) continue;
      examples.push({
        predictionId: label.predictionId,
        prdtypecode: label.truePrdtypecode,
        labelledAt: label.labelledAt,
        designation: prediction.designation,
        description: prediction.description,
        imageSha256: prediction.imageSha256,
      });
    }
    return { examples, missingPredictions: labels.length - examples.length };
  }
}
