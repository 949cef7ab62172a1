import { createHash } from 'node:crypto';
import type { BackboneRunner } from './backbone.runner';
import { extractImageFeatures } from './image-features.extractor';
import type { ImageFeatureSource } from './image.classifier';
import { backboneWeightsSha256, type BackboneSpec } from './pretrained-backbone.model';

/** The source of a backbone's features, identified by its weights (read from the installed package, then hashed). */
export function backboneSource(spec: BackboneSpec): ImageFeatureSource {
  return { kind: 'backbone', backbone: spec, id: backboneIdOf(spec) };
}

function backboneIdOf(spec: BackboneSpec): string {
  return `${spec.model}@${backboneWeightsSha256(spec.model).slice(0, 16)}/${spec.size}/${spec.pooling}/${spec.layers.join('+')}`;
}

/**
 * Features of decoded images (each size×size×3 RGB at the source's size): hand-made descriptors in the calling
 * thread, backbone features through `backbones` (a thread pool in an API, the calling thread elsewhere).
 */
export async function computeImageFeatures(
  source: ImageFeatureSource,
  pixels: Uint8Array[],
  backbones: BackboneRunner | undefined,
): Promise<Float32Array[]> {
  if (source.kind === 'handmade') return pixels.map((p) => extractImageFeatures(p, source.size));
  if (!backbones) throw new Error('backbone features need a BackboneRunner');
  return backbones.extract(source.backbone, pixels);
}

/** Where cached features of a source live in a store: one folder per source, one object per photo (its sha256). */
export function featureFolder(source: ImageFeatureSource): string {
  const key = source.kind === 'handmade' ? `handmade/${source.size}` : source.id;
  return `image-features/${createHash('sha256').update(key).digest('hex').slice(0, 16)}/`;
}
