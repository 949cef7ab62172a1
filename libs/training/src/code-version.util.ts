import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The package version and git commit of the code that trains, for the lineage: the version from the package.json
 * of the folder the process runs in (the repository root, or the image's app folder), the commit from GIT_COMMIT,
 * which the image build sets. Either is null when unknown.
 */
export function codeVersion(): { package: string | null; commit: string | null } {
  let version: string | null = null;
  try {
    version =
      (JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    // Started from another folder: the version is unknown.
  }
  return { package: version, commit: process.env.GIT_COMMIT ?? null };
}
