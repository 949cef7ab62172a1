import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ArtifactContents,
  ArtifactError,
  readModelArtifact,
  writeModelArtifact,
} from './model-artifact.format';

describe('model artifact', () => {
  let dir: string;
  const contents: ArtifactContents = {
    classes: [10, 40],
    categoryNames: { '10': 'Livres occasion', '40': 'Jeux vidéo' },
    fusion: { imageWeight: 0.5 },
    components: {
      text: { manifest: { kind: 'text', hidden: 4 }, files: { weights: new Uint8Array([1, 2, 3, 4]) } },
      image: { manifest: { kind: 'image' }, files: { weights: new Uint8Array([9, 8]) } },
    },
    documents: { metrics: { weighted_f1: 0.8 }, 'model-card': { rows: 12 } },
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'artifact-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips components, label map and documents', async () => {
    writeModelArtifact(dir, contents);
    const back = await readModelArtifact(dir);
    expect(back.classes).toEqual([10, 40]);
    expect(back.fusion).toEqual({ imageWeight: 0.5 });
    expect(back.components.text.manifest).toEqual({ kind: 'text', hidden: 4 });
    expect(Array.from(back.components.text.files.weights)).toEqual([1, 2, 3, 4]);
    expect(Array.from(back.components.image.files.weights)).toEqual([9, 8]);
    expect(back.documents.metrics).toEqual({ weighted_f1: 0.8 });
    expect(back.manifest.components.text.files.weights.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a corrupted weight file, naming the file', async () => {
    writeModelArtifact(dir, contents);
    writeFileSync(join(dir, 'text/weights.bin'), new Uint8Array([1, 2, 3, 5]));
    await expect(readModelArtifact(dir)).rejects.toThrow(ArtifactError);
    await expect(readModelArtifact(dir)).rejects.toThrow(/checksum mismatch for text\/weights.bin/);
  });

  it('refuses a missing file and a folder that is not a model', async () => {
    writeModelArtifact(dir, contents);
    rmSync(join(dir, 'image/weights.bin'));
    await expect(readModelArtifact(dir)).rejects.toThrow(/missing file image\/weights.bin/);
    await expect(readModelArtifact(join(dir, 'nowhere'))).rejects.toThrow(/no model.json/);
  });

  it('refuses another format', async () => {
    writeModelArtifact(dir, contents);
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...manifest, format: 'other/9' }));
    await expect(readModelArtifact(dir)).rejects.toThrow(/unsupported format "other\/9"/);
  });
});
