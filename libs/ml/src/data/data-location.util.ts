import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppConfig } from '@app/config';

/**
 * Where the Rakuten files live for tests and benchmarks: `RAKUTEN_DATA_DIR` when set, else `../shared/data/rakuten`
 * beside the repository when that folder exists. Returns undefined when neither is there.
 */
export function rakutenDataDir(cwd: string = process.cwd()): string | undefined {
  const configured = AppConfig.setting('RAKUTEN_DATA_DIR');
  if (configured) return resolve(cwd, configured);
  const sibling = resolve(cwd, '../shared/data/rakuten');
  return existsSync(sibling) ? sibling : undefined;
}
