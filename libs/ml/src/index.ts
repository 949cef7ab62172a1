export type { PredictionInput, ProductExample } from './data/product.types';
export { rakutenDataDir } from './data/data-location';
export { SeededRandom } from './runtime/random';
export { initBackend, type BackendName } from './runtime/tf-backend';
