import { softmaxInPlace } from '../runtime/softmax.util';

const EPSILON = 1e-7;

/**
 * Late fusion of the two modalities: p ∝ p_text · p_image^w. A weighted product (rather than a mean) lets a
 * confident image overrule an ambiguous title and vice versa; w < 1 reflects that the image model, trained on far
 * fewer examples, is the weaker of the two. Either part may be missing; then the other is copied through.
 */
export function fuseProbabilities(
  text: Float32Array | undefined,
  image: Float32Array | undefined,
  imageWeight: number,
  out: Float32Array,
): void {
  if (!text || !image) {
    const only = text ?? image;
    if (!only) throw new Error('fuseProbabilities needs at least one modality');
    out.set(only);
    return;
  }
  for (let k = 0; k < out.length; k++) {
    out[k] = Math.log(text[k] + EPSILON) + imageWeight * Math.log(image[k] + EPSILON);
  }
  softmaxInPlace(out);
}
