import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256 } from '@app/checksum';

/**
 * Writes a small directory with the layout of `npm run train` output (components' binaries, metrics and model
 * card documents, model.json listing them with their checksums): registry tests need a valid directory, not a
 * model that predicts.
 */
export function writeModelDirectory(dir: string, label = 'model'): void {
  const put = (path: string, bytes: Uint8Array) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
    return { path, sha256: sha256(bytes), bytes: bytes.byteLength };
  };
  const json = (body: unknown) => Buffer.from(`${JSON.stringify(body, null, 2)}\n`);
  const manifest = {
    format: 'product-classifier/1',
    createdAt: new Date().toISOString(),
    classes: [10, 2583],
    categoryNames: { '10': 'Livres', '2583': 'Piscine' },
    fusion: { imageWeight: 0.2 },
    components: {
      text: {
        manifest: { kind: 'text', label },
        files: {
          weights: put('text/weights.bin', randomBytes(4096)),
          bias: put('text/bias.bin', randomBytes(64)),
        },
      },
      image: { manifest: { kind: 'image' }, files: { weights: put('image/weights.bin', randomBytes(2048)) } },
    },
    documents: {
      metrics: put('metrics.json', json({ validation_weighted_f1: { text: 0.9, image: 0.7 }, label })),
      'model-card': put(
        'model-card.json',
        json({ dataFingerprint: `sha256:${sha256(Buffer.from(label))}`, rows: { products: 72 }, label }),
      ),
    },
  };
  writeFileSync(join(dir, 'model.json'), json(manifest));
}
