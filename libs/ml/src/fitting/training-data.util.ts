import { loadCategoryNames } from '../data/product-type.codes';
import { loadRakutenDataset, type RakutenDataset } from '../data/rakuten-dataset.loader';
import type { TrainingData } from './training.types';

/** Loads a Rakuten-layout folder (products.csv or an X_/Y_ pair) as training data plus its load report. */
export function loadTrainingData(
  dir: string,
  imagesDir?: string,
): { data: TrainingData; report: RakutenDataset['report']; layout: RakutenDataset['layout'] } {
  const dataset = loadRakutenDataset(dir, { imagesDir });
  return {
    data: {
      products: dataset.products,
      extraText: dataset.extraText,
      imageOnly: dataset.imageOnly,
      categoryNames: loadCategoryNames(dir),
    },
    report: dataset.report,
    layout: dataset.layout,
  };
}
