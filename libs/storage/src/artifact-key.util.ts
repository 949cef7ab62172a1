/**
 * Refuses keys that would escape the store's root on disk or mean different objects in the two drivers
 * (S3 keeps "a//b" and "./a" verbatim, a file system normalises them).
 */
export function assertValidArtifactKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new Error(`Invalid artifact key ${JSON.stringify(key)}: ${problem}`);
}

/**
 * Validates a list/delete prefix and returns it as a folder ("models/v1" and "models/v1/" both give
 * "models/v1/"; "" stays ""), so deleting "models/v1" can never touch "models/v10".
 */
export function toArtifactFolder(prefix: string): string {
  if (prefix === '') return '';
  const folder = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const problem = keyProblem(folder.slice(0, -1));
  if (problem) throw new Error(`Invalid artifact prefix ${JSON.stringify(prefix)}: ${problem}`);
  return folder;
}

function keyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty';
  if (key.startsWith('/')) return 'it must be relative, not start with "/"';
  if (key.includes('\\')) return 'it must use "/" separators, not backslashes';
  if (key.includes('\0')) return 'it contains a NUL character';
  const segments = key.split('/');
  if (segments.includes('..')) return 'it must not contain ".." segments';
  if (segments.includes('.')) return 'it must not contain "." segments';
  if (segments.includes('')) return 'it must not contain empty segments ("//" or a trailing "/")';
  return undefined;
}
