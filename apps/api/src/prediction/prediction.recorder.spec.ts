import { Registry } from 'prom-client';
import type { PredictionWriter } from '@app/database';
import { MetricsService } from '../metrics/metrics.service';
import { PredictionRecorder, RecorderBackpressureError, type PredictionRecord } from './prediction.recorder';

/** A database stand-in that stores inserted rows and can be made to fail. */
function fakeWriter() {
  const stored: PredictionRecord[] = [];
  const state = { failuresLeft: 0, statements: 0 };
  const writer = {
    async insert(rows: PredictionRecord[]) {
      state.statements++;
      if (state.failuresLeft > 0) {
        state.failuresLeft--;
        throw new Error('connection lost');
      }
      stored.push(...rows);
    },
  } as unknown as PredictionWriter;
  return { writer, stored, state };
}

function rows(n: number, from = 0): PredictionRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `id-${from + i}`,
    createdAt: new Date(),
    modelVersion: 'v1',
    prdtypecode: 10,
    probability: 0.9,
    top: [],
    modality: 'text',
    designation: 'livre',
    description: null,
    imageSha256: null,
    latencyMs: 1,
    requestedBy: null,
  }));
}

describe('PredictionRecorder', () => {
  it('writes buffered predictions in multi-row statements and finds them while they wait', async () => {
    const db = fakeWriter();
    const recorder = new PredictionRecorder(db.writer, new MetricsService(new Registry()));
    recorder.record(rows(600));
    expect(recorder.find('id-7')).toMatchObject({ id: 'id-7' });
    await recorder.flush();
    expect(db.stored).toHaveLength(600);
    expect(db.state.statements).toBe(3);
    expect(recorder.pending).toBe(0);
    expect(recorder.find('id-7')).toBeUndefined();
  });

  it('writes a backlog a slice at a time, letting other work run between slices', async () => {
    const db = fakeWriter();
    const recorder = new PredictionRecorder(db.writer, new MetricsService(new Registry()));
    recorder.record(rows(1000));
    const statementsSeenByOtherWork: number[] = [];
    const otherWork = () => {
      statementsSeenByOtherWork.push(db.state.statements);
      if (db.state.statements < 4) setImmediate(otherWork);
    };
    setImmediate(otherWork);
    await recorder.flush();
    expect(db.state.statements).toBe(4);
    // Between each slice and the next, other work had a turn.
    expect(statementsSeenByOtherWork).toEqual(expect.arrayContaining([1, 2, 3]));
  });

  it('stops the writer after the last flush at shutdown', async () => {
    const db = fakeWriter();
    const close = jest.fn(async () => undefined);
    Object.assign(db.writer, { close });
    const recorder = new PredictionRecorder(db.writer, new MetricsService(new Registry()));
    recorder.record(rows(3));
    await recorder.beforeApplicationShutdown();
    expect(close).not.toHaveBeenCalled();
    await recorder.onApplicationShutdown();
    expect(close).toHaveBeenCalledTimes(1);
    expect(db.stored).toHaveLength(3);
  });

  it('keeps rows whose write failed and stores them on a later attempt', async () => {
    const db = fakeWriter();
    const recorder = new PredictionRecorder(db.writer, new MetricsService(new Registry()));
    db.state.failuresLeft = 1;
    recorder.record(rows(10));
    await expect(recorder.flush()).rejects.toThrow('connection lost');
    expect(recorder.pending).toBe(10);
    await recorder.flush();
    expect(db.stored.map((r) => r.id)).toEqual(rows(10).map((r) => r.id));
  });

  it('drains everything before shutdown, retrying through transient failures', async () => {
    const db = fakeWriter();
    const recorder = new PredictionRecorder(db.writer, new MetricsService(new Registry()));
    db.state.failuresLeft = 2;
    recorder.record(rows(700));
    await recorder.beforeApplicationShutdown();
    expect(db.stored).toHaveLength(700);
  });

  it('refuses new work with a 503-type error when the database is far behind', () => {
    const db = fakeWriter();
    const recorder = new PredictionRecorder(db.writer, new MetricsService(new Registry()));
    recorder.record(rows(recorder.capacity - 1));
    expect(() => recorder.assertCapacity(1)).not.toThrow();
    expect(() => recorder.assertCapacity(2)).toThrow(RecorderBackpressureError);
    recorder.onModuleDestroy();
  });
});
