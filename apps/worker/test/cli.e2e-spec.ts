import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFixtureDataset } from '@app/ml/testing';
import { AppConfig } from '@app/config';
import { ModelVersionEntity, openDataSource, PromotionAuditEntity } from '@app/database';

const ROOT = resolve(__dirname, '../../..');

function cli(command: 'train' | 'evaluate' | 'predict', args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      `apps/worker/src/cli/${command}.cli.ts`,
      ...args,
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('train, evaluate and predict from the command line (e2e)', () => {
  let dir: string;
  let modelDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-data-'));
    modelDir = join(dir, 'model');
    await writeFixtureDataset(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains a text and image model and writes a complete model directory', () => {
    const result = cli('train', ['--data', dir, '--out', modelDir, '--seed', '1']);
    expect(result.stderr).toContain('text-neural-0 epoch 1');
    expect(result.stderr).toContain('image epoch 1');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).model).toBe(modelDir);
    const manifest = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    expect(manifest.classes).toEqual([10, 1560, 2583]);
    expect(Object.keys(manifest.components).sort()).toEqual([
      'image',
      'text-linear-0',
      'text-linear-1',
      'text-neural-0',
      'text-neural-1',
      'text-neural-2',
    ]);
    const card = JSON.parse(readFileSync(join(modelDir, 'model-card.json'), 'utf8'));
    expect(card.dataFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(card.rows).toEqual(expect.objectContaining({ products: 72, imageOnly: 36 }));
    expect(['tensorflow', 'wasm']).toContain(card.backend);
    expect(card.timings.totalSeconds).toBeGreaterThan(0);
  });

  it('evaluates the model: one JSON object with products and image_only figures', () => {
    const result = cli('evaluate', ['--model', modelDir, '--data', dir]);
    expect(result.status).toBe(0);
    const evaluation = JSON.parse(result.stdout);
    expect(evaluation.products.n).toBe(72);
    expect(evaluation.products.weighted_f1).toBeGreaterThan(0.9);
    expect(evaluation.products.confusion_matrix.labels).toEqual([10, 1560, 2583]);
    expect(evaluation.products.per_class).toHaveLength(3);
    expect(evaluation.image_only.n).toBe(36);
    expect(evaluation.image_only.accuracy).toBeGreaterThan(0.6);
  });

  it('predicts from a title, and from an image alone', () => {
    const byText = cli('predict', ['--model', modelDir, '--designation', 'piscine hors sol avec pompe']);
    expect(byText.status).toBe(0);
    const prediction = JSON.parse(byText.stdout);
    expect(prediction.prdtypecode).toBe(2583);
    expect(prediction.modality).toBe('text');
    expect(prediction.top[0].probability).toBeGreaterThanOrEqual(prediction.top[1].probability);

    const imageFile = join(
      dir,
      'images',
      readFileSync(join(dir, 'image_only.csv'), 'utf8').split('\n')[1].split(',')[3],
    );
    const byImage = cli('predict', ['--model', modelDir, '--image', imageFile]);
    expect(byImage.status).toBe(0);
    expect(JSON.parse(byImage.stdout).modality).toBe('image');
  });

  it('trains a leaner text ensemble when asked, for faster predictions', () => {
    const leanDir = join(dir, 'lean');
    const result = cli('train', [
      '--data',
      dir,
      '--out',
      leanDir,
      '--no-images',
      '--neural-models',
      '1',
      '--linear-views',
      'merged',
    ]);
    expect(result.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(leanDir, 'model.json'), 'utf8'));
    expect(Object.keys(manifest.components).sort()).toEqual(['text-linear-0', 'text-neural-0']);
    const prediction = JSON.parse(
      cli('predict', ['--model', leanDir, '--designation', 'table en bois']).stdout,
    );
    expect(prediction.prdtypecode).toBe(1560);
  });

  it('registers and promotes the trained model into the embedded registry when asked', async () => {
    const varDir = join(dir, 'var');
    // Blank settings count as unset: whatever the calling shell configured, this registers into varDir.
    const embedded = { VAR_DIR: varDir, DATABASE_URL: '', S3_BUCKET: '', S3_ENDPOINT: '', S3_REGION: '' };
    const lean = ['--data', dir, '--no-images', '--neural-models', '1', '--linear-views', 'merged'];
    const trained = cli(
      'train',
      [...lean, '--out', join(dir, 'registered'), '--register', '--promote'],
      embedded,
    );
    expect(trained.status).toBe(0);
    expect(JSON.parse(trained.stdout)).toEqual(
      expect.objectContaining({
        version: 'v1',
        production: expect.objectContaining({ version: 'v1', revision: 1 }),
      }),
    );

    const dataSource = await openDataSource(AppConfig.fromEnvironment(embedded));
    try {
      expect(await dataSource.getRepository(ModelVersionEntity).findOneByOrFail({ version: 'v1' })).toEqual(
        expect.objectContaining({
          source: 'cli',
          status: 'ready',
          dataFingerprint: expect.stringMatching(/^sha256:/),
        }),
      );
      const audit = await dataSource.getRepository(PromotionAuditEntity).find();
      expect(audit.map((row) => [row.actor, row.action, row.toVersion])).toEqual([['cli', 'promote', 'v1']]);
    } finally {
      await dataSource.destroy();
    }
    expect(existsSync(join(varDir, 'artifacts', 'models', 'v1', 'model.json'))).toBe(true);

    // The parent is checked before training starts.
    const orphan = cli(
      'train',
      [...lean, '--out', join(dir, 'orphan'), '--register', '--parent', 'v9'],
      embedded,
    );
    expect(orphan.status).toBe(2);
    expect(orphan.stderr).toMatch(/--parent: Model version "v9" is not registered/);
    expect(existsSync(join(dir, 'orphan'))).toBe(false);
  });

  it('refuses --register at once, naming the reason, when the registry database cannot be reached', () => {
    const result = cli(
      'train',
      ['--data', dir, '--out', join(dir, 'unreachable'), '--no-images', '--register'],
      {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--register: cannot open the registry's database: connect ECONNREFUSED/);
    expect(existsSync(join(dir, 'unreachable'))).toBe(false);
  });

  it('runs stratified cross-validation and reports mean figures', () => {
    const result = cli('evaluate', ['--data', dir, '--cv', '3', '--seed', '0', '--no-images']);
    expect(result.status).toBe(0);
    const cv = JSON.parse(result.stdout);
    expect(cv.folds).toHaveLength(3);
    expect(cv.products.weighted_f1).toBeGreaterThan(0.8);
    expect(cv.protocol).toEqual(expect.objectContaining({ k: 3, seed: 0 }));
  });

  it.each([
    ['a missing flag', 'train', ['--data', 'x'], 2, /--out is required/],
    ['an unknown flag', 'train', ['--data', 'x', '--out', 'y', '--bogus'], 2, /Unknown option '--bogus'/],
    [
      'an unknown text view',
      'train',
      ['--data', 'x', '--out', 'y', '--linear-views', 'svm'],
      2,
      /unknown view svm/,
    ],
    ['a folder that is not a dataset', 'train', ['--data', ROOT, '--out', '/tmp/never'], 1, /products\.csv/],
    ['a folder that is not a model', 'predict', ['--model', ROOT, '--designation', 'x'], 1, /no model\.json/],
    [
      'an image that is not an image',
      'predict',
      ['--model', 'MODEL', '--image', 'products.csv'],
      1,
      /not a JPEG, PNG or WebP/,
    ],
  ])('rejects %s with a readable message and no stack trace', (_, command, args, status, message) => {
    const resolved = args.map((a) => (a === 'MODEL' ? modelDir : a === 'products.csv' ? join(dir, a) : a));
    const result = cli(command as 'train' | 'predict', resolved);
    expect(result.status).toBe(status);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('names the file and row of a malformed label', () => {
    const bad = mkdtempSync(join(tmpdir(), 'cli-bad-'));
    writeFileSync(
      join(bad, 'products.csv'),
      'productid,imageid,designation,description,prdtypecode\n1,1,ok,,10\n2,2,bad,,12x\n',
    );
    const result = cli('train', ['--data', bad, '--out', join(bad, 'model')]);
    rmSync(bad, { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/products\.csv row 3: prdtypecode "12x"/);
  });
});
