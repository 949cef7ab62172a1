import {
  trainingDocuments,
  trainProductClassifier,
  validationMetrics,
  type ImageFeatureStore,
  type TrainOptions,
} from '@app/ml';
import { codeVersion } from './code-version';
import type {
  TrainedModel,
  TrainingDataSource,
  TrainingLineage,
  TrainingProgressListener,
} from './training.types';

export interface TrainModelRequest {
  data: TrainingDataSource;
  options: TrainOptions;
  /** Where to write the model directory (created if missing). */
  outDir: string;
  /** Recorded in the model card. */
  lineage?: TrainingLineage;
  progress?: TrainingProgressListener;
  /** Image features cached by photo hash (the artifact store): read before extracting, written after. */
  featureStore?: ImageFeatureStore;
}

/** Loads the rows, trains a product classifier and writes its directory: the part of a run that needs no registry. */
export async function trainModel(request: TrainModelRequest): Promise<TrainedModel> {
  const progress = request.progress ?? (() => undefined);
  const { data, provenance } = await request.data.load((message) => progress({ phase: 'loading', message }));
  const trained = await trainProductClassifier(
    data,
    request.options,
    (message) => progress({ phase: 'training', message }),
    undefined,
    (model, epoch, message) => progress({ phase: 'training', message, epoch: { model, ...epoch } }),
    { featureStore: request.featureStore },
  );
  const { classifier, card } = trained;
  const metrics = validationMetrics(card);
  try {
    const manifest = await classifier.save(request.outDir, {
      metrics,
      'model-card': {
        ...card,
        ...provenance,
        ...(request.lineage ? { lineage: lineageCard(request.lineage) } : {}),
      },
      ...trainingDocuments(trained),
    });
    const components = Object.keys(manifest.components);
    progress({
      phase: 'saving',
      message: `model written to ${request.outDir} (${components.join(' + ')})`,
    });
    return {
      dir: request.outDir,
      metrics,
      components,
      lineage: {
        dataFingerprint: card.dataFingerprint,
        parameters: card.parameters,
        backend: card.backend,
        code: codeVersion(),
        trainingSeconds: card.timings.totalSeconds,
      },
    };
  } finally {
    classifier.dispose();
  }
}

function lineageCard(lineage: TrainingLineage): Record<string, unknown> {
  return {
    trigger: lineage.trigger,
    source: lineage.source,
    createdBy: lineage.createdBy,
    jobId: lineage.jobId ?? null,
    parentVersion: lineage.parentVersion ?? null,
  };
}
