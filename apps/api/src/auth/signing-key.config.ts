import { Logger } from '@nestjs/common';
import { createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { AppConfig, ConfigValidationError } from '@app/config';

/** The HMAC key that signs and verifies this service's own access tokens (HS256). */
export class SigningKey {
  constructor(
    readonly key: KeyObject,
    /** True when JWT_SECRET was unset and the key was made up at boot. */
    readonly generated: boolean,
  ) {}

  /**
   * JWT_SECRET, or in development a random key: tokens then die with the process and replicas do not accept each
   * other's. Production (NODE_ENV=production) must set JWT_SECRET.
   */
  static fromConfig(config: AppConfig, logger = new Logger('Auth')): SigningKey {
    const secret = config.env.JWT_SECRET;
    if (secret) return new SigningKey(createSecretKey(Buffer.from(secret, 'utf8')), false);
    SigningKey.assertConfigured(config);
    logger.warn(
      'JWT_SECRET is not set: signing tokens with a random key made at boot. Tokens stop working at restart and ' +
        'other replicas refuse them; set JWT_SECRET (32+ characters) for anything but a local trial.',
    );
    return new SigningKey(createSecretKey(randomBytes(32)), true);
  }

  /**
   * Throws the configuration error of a production API without JWT_SECRET. main.ts calls it before Nest starts,
   * so the operator reads one line instead of a stack trace.
   */
  static assertConfigured(config: AppConfig): void {
    if (!config.env.JWT_SECRET && config.env.NODE_ENV === 'production') {
      throw new ConfigValidationError([
        'JWT_SECRET must be set when NODE_ENV=production (at least 32 random characters, the same on every replica)',
      ]);
    }
  }
}
