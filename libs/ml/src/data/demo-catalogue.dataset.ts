import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The demo catalogue shipped with the repo (invented listings, see its README), used to train a first model when
 * no real data is configured. Looked up beside the sources and from the working directory, since the compiled
 * output in dist/ does not carry the CSV.
 */
export function demoCatalogueDir(): string | undefined {
  const candidates = [
    resolve(__dirname, '../../assets/demo-catalogue'),
    resolve(process.cwd(), 'libs/ml/assets/demo-catalogue'),
  ];
  return candidates.find((dir) => existsSync(resolve(dir, 'products.csv')));
}
