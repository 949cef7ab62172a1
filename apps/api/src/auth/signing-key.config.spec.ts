import { AppConfig, ConfigValidationError } from '@app/config';
import { SigningKey } from './signing-key.config';

describe('SigningKey', () => {
  const logger = { warn: jest.fn() } as unknown as ConstructorParameters<typeof SigningKey>[0] extends never
    ? never
    : Parameters<typeof SigningKey.fromConfig>[1];

  it('uses JWT_SECRET', () => {
    const key = SigningKey.fromConfig(AppConfig.fromEnvironment({ JWT_SECRET: 'x'.repeat(32) }), logger);
    expect(key.generated).toBe(false);
    expect(key.key.export().toString()).toBe('x'.repeat(32));
  });

  it('makes up a random key with a warning outside production', () => {
    const warn = jest.fn();
    const a = SigningKey.fromConfig(AppConfig.fromEnvironment({}), { warn } as never);
    const b = SigningKey.fromConfig(AppConfig.fromEnvironment({}), { warn } as never);
    expect(a.generated).toBe(true);
    expect(a.key.export().equals(b.key.export())).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/JWT_SECRET is not set/));
  });

  it('refuses to start in production without JWT_SECRET', () => {
    expect(() =>
      SigningKey.fromConfig(AppConfig.fromEnvironment({ NODE_ENV: 'production' }), logger),
    ).toThrow(ConfigValidationError);
  });
});
