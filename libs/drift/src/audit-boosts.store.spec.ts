import { DataSource } from 'typeorm';
import { openTestDatabase, TEST_DATABASES, type OpenTestDatabase } from '@app/database/testing';
import { AuditBoosts } from './audit-boosts.store';
import { DriftAlertAction } from './drift-alerts.service';

describe.each(TEST_DATABASES)('AuditBoosts and drift alerts on $name', (database) => {
  let dataSource: DataSource;
  let db: OpenTestDatabase;

  beforeAll(async () => {
    db = await openTestDatabase(database);
    dataSource = db.dataSource;
  });
  afterAll(async () => {
    await db?.close();
  });

  const alert = (labels: Record<string, string>) => ({
    labels: { alertname: 'ModelDrift', ...labels },
    startsAt: '2026-12-06T10:00:00Z',
  });

  it('raises the audit rate of the drifting version for the configured time, and notifies', async () => {
    const boosts = new AuditBoosts(dataSource, { rate: 0.25, minutes: 60 });
    const told: string[] = [];
    const action = new DriftAlertAction(['ModelDrift'], boosts, (message) => told.push(message));
    const before = Date.now();
    const outcome = await action.act(alert({ model_version: 'v7', signal: 'class_mix' }), 'abc@start');
    expect(outcome.result).toBe('boosted');
    expect(outcome.reason).toMatch(/drift on model v7 \(class_mix\).*raised to 0.25 until/);
    expect(told).toEqual([outcome.reason]);

    expect(await boosts.rateFor('v7', 0.05)).toBe(0.25);
    // Never lowers a base rate already above the boost, and leaves other versions alone.
    expect(await boosts.rateFor('v7', 0.5)).toBe(0.5);
    expect(await boosts.rateFor('v8', 0.05)).toBe(0.05);
    const [active] = await boosts.active();
    expect(active).toMatchObject({ modelVersion: 'v7', rate: 0.25, alertKey: 'abc@start' });
    expect(active.until.getTime()).toBeGreaterThanOrEqual(before + 60 * 60_000 - 1000);
    // Once the time is over, the base rate is back.
    expect(await boosts.rateFor('v7', 0.05, new Date(before + 61 * 60_000))).toBe(0.05);
    expect(await boosts.active(new Date(before + 61 * 60_000))).toEqual([]);
  });

  it('extends a running boost when the version drifts again', async () => {
    const boosts = new AuditBoosts(dataSource, { rate: 0.3, minutes: 10 });
    await boosts.boost('v9', 'a@1', 'first', new Date('2026-12-06T10:00:00Z'));
    await boosts.boost('v9', 'b@2', 'second', new Date('2026-12-06T10:05:00Z'));
    const [boost] = (await boosts.active(new Date('2026-12-06T10:12:00Z'))).filter(
      (b) => b.modelVersion === 'v9',
    );
    expect(boost).toMatchObject({ alertKey: 'b@2', reason: 'second' });
    expect(boost.until.toISOString()).toBe('2026-12-06T10:15:00.000Z');
  });

  it('only records the alert when the boost is off, and ignores an alert naming no version', async () => {
    const boosts = new AuditBoosts(dataSource, { rate: 0, minutes: 60 });
    const action = new DriftAlertAction(['ModelDrift'], boosts, () => undefined);
    expect(await action.act(alert({ model_version: 'v10' }), 'k@1')).toMatchObject({ result: 'recorded' });
    expect(await boosts.rateFor('v10', 0.05)).toBe(0.05);
    expect(await action.act(alert({}), 'k@2')).toMatchObject({ result: 'ignored' });
  });
});
