import { createHash, randomBytes } from 'node:crypto';

/** SHA-256 hex of a bearer secret: what the database keeps instead of the secret (256 random bits need no salt). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new random secret: 32 bytes, base64url, after a prefix that says what it is (and lets secret scanners find it). */
export function randomToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}
