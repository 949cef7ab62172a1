import { loadTrainingData } from '@app/ml';
import type { TrainingDataSource } from './training.types';

/** The rows of a Rakuten-layout folder (products.csv, or an X_/Y_ pair); images from `imagesDir` or DIR/images. */
export function directoryDataSource(dir: string, imagesDir?: string): TrainingDataSource {
  return {
    async load(log) {
      const { data, report, layout } = loadTrainingData(dir, imagesDir);
      log(`loaded ${layout} layout from ${dir}: ${JSON.stringify(report.files)}`);
      log(
        `images: ${report.images.found} found, ${report.images.missing} missing of ${report.images.referenced} referenced`,
      );
      return { data, provenance: { dataDir: dir, layout, dataReport: report } };
    },
  };
}
