import type { ProductExample } from '../data/product.types';
import { argmaxRows, evaluateClassification, type ClassificationReport } from '@app/classification-metrics';
import type { DecodedItem, ProductClassifier } from '../model/product.classifier';
import type { ImageCache } from './training.types';

export interface ModelEvaluation {
  /** Every labelled product: text, fused with the image where the product has one. */
  products: ClassificationReport & { with_image: number };
  /** The same rows with images ignored: what the text model alone achieves. */
  products_text_only: ClassificationReport;
  /** Rows that have only an image, scored by the image model alone. */
  image_only?: ClassificationReport & { skipped: number };
}

export async function evaluateClassifier(
  classifier: ProductClassifier,
  data: { products: ProductExample[]; imageOnly: ProductExample[] },
  images: ImageCache,
): Promise<ModelEvaluation> {
  const products = data.products.filter((e) => e.label !== undefined);
  const featuresOf = (e: ProductExample) =>
    e.imagePath && images.source === classifier.imageFeatureSource
      ? images.features.get(e.imagePath)
      : undefined;
  const textOf = (e: ProductExample) => ({ designation: e.designation, description: e.description });
  const fusedItems: DecodedItem[] = products.map((e) => ({
    text: textOf(e),
    imageFeatures: featuresOf(e),
  }));
  const evaluation: ModelEvaluation = {
    products: {
      ...(await report(classifier, fusedItems, products)),
      with_image: fusedItems.filter((i) => i.imageFeatures).length,
    },
    products_text_only: await report(
      classifier,
      products.map((e) => ({ text: textOf(e) })),
      products,
    ),
  };
  if (classifier.hasImageModel && data.imageOnly.length > 0) {
    const scored = data.imageOnly.filter((e) => e.label !== undefined && featuresOf(e));
    evaluation.image_only = {
      ...(await report(
        classifier,
        scored.map((e) => ({ imageFeatures: featuresOf(e) })),
        scored,
      )),
      skipped: data.imageOnly.length - scored.length,
    };
  }
  return evaluation;
}

async function report(
  classifier: ProductClassifier,
  items: DecodedItem[],
  rows: ProductExample[],
): Promise<ClassificationReport> {
  return evaluateClassification(
    rows.map((e) => e.label!),
    await predictLabels(classifier, items),
    [...classifier.classes],
  );
}

/** The most probable product type code of each item. */
export async function predictLabels(classifier: ProductClassifier, items: DecodedItem[]): Promise<number[]> {
  return argmaxRows(await classifier.score(items), classifier.classes.length).map(
    (k) => classifier.classes[k],
  );
}
