import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ArtifactError } from '../artifacts/model-artifact.format';
import { ProductClassifier } from '../model/product.classifier';
import { fixtureTexts } from '../testing/dataset.fixture';
import { trainFixtureModel } from '../testing/model.fixture';
import { ScoringUnavailableError, TextScoringPool } from './text-scoring.pool';

/** A batch large enough to be split across threads. */
const texts = fixtureTexts(150);

/** Polls `condition` every 100 ms until it holds or `ms` have passed (the caller asserts what it waited for). */
async function waitUntil(condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition()) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
}

/** The thread of a pool by position: what a crash would take away. */
const threadWorker = (pool: TextScoringPool, slot: number) =>
  (pool as unknown as { threads: { worker: Worker }[] }).threads[slot].worker;

describe('TextScoringPool', () => {
  let dir: string;
  let inProcess: ProductClassifier;

  beforeAll(async () => {
    dir = await trainFixtureModel();
    inProcess = await ProductClassifier.load(dir);
  }, 60_000);

  afterAll(() => {
    inProcess.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores exactly as the calling thread does, in input order, a batch split over two threads', async () => {
    const pool = await TextScoringPool.start(dir, 2);
    try {
      const expected = await inProcess.score(texts.map((text) => ({ text })));
      expect(await pool.predictProba(texts)).toEqual(expected);
      // Small batches and concurrent ones land on either thread and still answer their own texts.
      const singles = await Promise.all(texts.slice(0, 20).map((text) => pool.predictProba([text])));
      singles.forEach((row, i) => expect(row).toEqual(expected.subarray(i * 3, i * 3 + 3)));
    } finally {
      pool.dispose();
    }
  }, 60_000);

  it('gives a classifier loaded with threads the same predictions, and refuses to save it', async () => {
    const threaded = await ProductClassifier.load(dir, { scoringThreads: 1 });
    try {
      const inputs = texts.slice(0, 40);
      expect(await threaded.predict(inputs, 3)).toEqual(await inProcess.predict(inputs, 3));
      await expect(threaded.save(join(dir, 'copy'), {})).rejects.toThrow(/without them/);
    } finally {
      threaded.dispose();
    }
  }, 60_000);

  it('fails the requests a dying thread held, tells why, and replaces the thread', async () => {
    const errors: string[] = [];
    const pool = await TextScoringPool.start(dir, 1, (message) => errors.push(message));
    try {
      // Large enough that the thread is still scoring it when it is stopped.
      const held = pool.predictProba(Array.from({ length: 20 }, () => texts).flat());
      await threadWorker(pool, 0).terminate();
      await expect(held).rejects.toThrow(ScoringUnavailableError);
      expect(errors[0]).toMatch(/scoring thread stopped/);
      expect(pool.running).toBe(0);
      // The replacement loads the model again, then answers as before.
      let answer: Float32Array | undefined;
      await waitUntil(async () => {
        answer = await pool.predictProba(texts.slice(0, 3)).catch(() => undefined);
        return answer !== undefined;
      }, 30_000);
      expect(answer).toEqual(await inProcess.score(texts.slice(0, 3).map((text) => ({ text }))));
      expect(pool.running).toBe(1);
    } finally {
      pool.dispose();
    }
  }, 60_000);

  it('keeps trying to replace a dead thread while its model cannot be read, until it can', async () => {
    const errors: string[] = [];
    const pool = await TextScoringPool.start(dir, 1, (message) => errors.push(message));
    const moved = `${dir}-moved`;
    try {
      renameSync(dir, moved);
      await threadWorker(pool, 0).terminate();
      const restartFailures = () => errors.filter((e) => /could not be restarted/.test(e)).length;
      await waitUntil(() => restartFailures() >= 2, 20_000);
      expect(restartFailures()).toBeGreaterThanOrEqual(2);
      expect(pool.running).toBe(0);

      renameSync(moved, dir);
      await waitUntil(() => pool.running > 0, 30_000);
      expect(await pool.predictProba(texts.slice(0, 3))).toEqual(
        await inProcess.score(texts.slice(0, 3).map((text) => ({ text }))),
      );
    } finally {
      pool.dispose();
      try {
        renameSync(moved, dir);
      } catch {
        // already back in place
      }
    }
  }, 60_000);

  it('refuses work once disposed', async () => {
    const pool = await TextScoringPool.start(dir, 1);
    pool.dispose();
    await expect(pool.predictProba(texts.slice(0, 1))).rejects.toThrow(ScoringUnavailableError);
  }, 60_000);

  it('does not start on an artifact whose text models fail their checksum', async () => {
    const corrupt = await trainFixtureModel();
    try {
      writeFileSync(join(corrupt, 'text-neural-0', 'kernel2.f32.bin'), Buffer.alloc(8));
      const attempt = TextScoringPool.start(corrupt, 2);
      await expect(attempt).rejects.toThrow(ArtifactError);
      await expect(TextScoringPool.start(corrupt, 1)).rejects.toThrow(/checksum mismatch/);
    } finally {
      rmSync(corrupt, { recursive: true, force: true });
    }
  }, 60_000);
});
