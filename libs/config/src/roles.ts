/**
 * Every role a principal (user, service token or external identity) can hold. `admin` may do everything; the
 * last two are meant for service tokens: `alertmanager` calls the alert webhook, `monitoring` scrapes /metrics
 * and health when those are closed by configuration.
 */
export const ROLES = ['admin', 'ml-engineer', 'client', 'alertmanager', 'monitoring'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
