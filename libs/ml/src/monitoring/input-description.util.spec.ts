import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProductClassifier } from '../model/product.classifier';
import { trainFixtureModel } from '../testing/model.fixture';
import { describeInput, InputVocabulary } from './input-description.util';

describe('describeInput', () => {
  let modelDir: string;
  let classifier: ProductClassifier;

  beforeAll(async () => {
    modelDir = await trainFixtureModel(0, { withImages: false });
    classifier = await ProductClassifier.load(modelDir);
  }, 60_000);

  afterAll(() => {
    classifier.dispose();
    rmSync(modelDir, { recursive: true, force: true });
  });

  it('counts the characters of title and description and whether a photo came', () => {
    const described = describeInput(classifier, {
      designation: 'livre roman',
      description: 'poche',
      image: new Uint8Array([1, 2, 3]),
    });
    expect(described).toMatchObject({ textLength: 16, hasImage: true });
    expect(describeInput(classifier, { designation: 'livre', imagePath: '/x.jpg' }).hasImage).toBe(true);
    expect(describeInput(classifier, { designation: 'livre', image: new Uint8Array(0) }).hasImage).toBe(
      false,
    );
  });

  it('measures the share of words the text model never kept in training', () => {
    expect(describeInput(classifier, { designation: 'livre roman poche' }).unseenTokenShare).toBe(0);
    expect(describeInput(classifier, { designation: 'zorglub quantique' }).unseenTokenShare).toBe(1);
    // Word occurrences, title and description together: one unknown word out of four.
    expect(
      describeInput(classifier, { designation: 'table chaise', description: 'meuble xylophonique' })
        .unseenTokenShare,
    ).toBeCloseTo(0.25);
    expect(describeInput(classifier, { designation: '' }).unseenTokenShare).toBe(0);
  });

  it('reads the same vocabulary from the artifact as from the loaded classifier', () => {
    const loaded = InputVocabulary.load(modelDir);
    for (const designation of ['livre roman', 'piscine zorglub bache', 'armoire 12 portes inconnues']) {
      expect(loaded.unseenTokenShare({ designation })).toBe(
        describeInput(classifier, { designation }).unseenTokenShare,
      );
    }
  });

  it('refuses an artifact whose vocabulary file was altered', () => {
    const copy = mkdtempSync(join(tmpdir(), 'vocabulary-'));
    try {
      const manifest = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
      const entry = manifest.components['text-linear-0'].files['feature-buckets.i32'];
      const bytes = readFileSync(join(modelDir, entry.path));
      bytes[0] ^= 0xff;
      writeFileSync(join(copy, 'model.json'), JSON.stringify(manifest));
      mkdirSync(join(copy, entry.path, '..'), { recursive: true });
      writeFileSync(join(copy, entry.path), bytes);
      expect(() => InputVocabulary.load(copy)).toThrow(/checksum mismatch/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
