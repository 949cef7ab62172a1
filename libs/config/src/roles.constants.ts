/**
 * Every role a principal (user, service token or external identity) can hold. `admin` may do everything;
 * `alertmanager` and `monitoring` are meant for service tokens: `alertmanager` calls the alert webhook,
 * `monitoring` scrapes /metrics and health when those are closed by configuration. `reviewer` labels listings of
 * the review queue (/v1/review, the /review page) and may do nothing else.
 */
export const ROLES = ['admin', 'ml-engineer', 'client', 'alertmanager', 'monitoring', 'reviewer'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
