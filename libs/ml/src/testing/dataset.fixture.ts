import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** Three classes with distinct words and distinctly coloured photos: learnable in seconds. */
export const FIXTURE_CLASSES: Record<
  number,
  { words: string[]; colour: { r: number; g: number; b: number } }
> = {
  10: { words: ['livre', 'roman', 'edition', 'auteur', 'poche'], colour: { r: 200, g: 30, b: 30 } },
  2583: { words: ['piscine', 'pompe', 'filtration', 'bache', 'hivernage'], colour: { r: 30, g: 60, b: 220 } },
  1560: { words: ['table', 'chaise', 'meuble', 'bois', 'armoire'], colour: { r: 40, g: 180, b: 40 } },
};

/** `count` short product texts cycling through the fixture classes' words, for tests that score many texts. */
export function fixtureTexts(count: number): { designation: string; description: string }[] {
  const classes = Object.values(FIXTURE_CLASSES);
  return Array.from({ length: count }, (_, i) => {
    const { words } = classes[i % classes.length];
    return { designation: `${words[i % 5]} ${words[(i + 1) % 5]} ${i}`, description: i % 2 ? words[2] : '' };
  });
}

/**
 * Writes a tiny Rakuten-layout folder (products.csv with quoted multi-line HTML descriptions, image_only.csv,
 * images/) for tests that need a real trained model without the real data.
 */
export async function writeFixtureDataset(dir: string): Promise<void> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const products = ['productid,imageid,designation,description,prdtypecode,has_image,image_file'];
  const imageOnly = ['productid,imageid,prdtypecode,image_file'];
  let id = 1000;
  for (const [code, { words, colour }] of Object.entries(FIXTURE_CLASSES)) {
    for (let i = 0; i < 24; i++) {
      id++;
      const title = `${words[i % 5]} ${words[(i + 2) % 5]} modele ${i}`;
      const description =
        i % 3 === 0 ? '' : `"<p>Tr&egrave;s beau ${words[(i + 1) % 5]},\nlivr&eacute; vite</p>"`;
      const image = `image_${id}_product_${id}.jpg`;
      const withImage = i % 2 === 0;
      if (withImage) await writeFixtureJpeg(join(dir, 'images', image), colour, i);
      products.push(
        `${id},${id},${title},${description},${code},${withImage ? 1 : 0},${withImage ? image : ''}`,
      );
    }
    for (let i = 0; i < 12; i++) {
      id++;
      const image = `image_${id}_product_${id}.jpg`;
      await writeFixtureJpeg(join(dir, 'images', image), colour, i);
      imageOnly.push(`${id},${id},${code},${image}`);
    }
  }
  writeFileSync(join(dir, 'products.csv'), `${products.join('\n')}\n`);
  writeFileSync(join(dir, 'image_only.csv'), `${imageOnly.join('\n')}\n`);
}

/** A 48×48 JPEG of one colour, shifted a little by `jitter` so that no two photos are identical. */
export function fixtureJpeg(colour: { r: number; g: number; b: number }, jitter = 0): Promise<Buffer> {
  const shade = (v: number) => Math.max(0, Math.min(255, v + ((jitter * 7) % 30) - 15));
  return sharp({
    create: {
      width: 48,
      height: 48,
      channels: 3,
      background: { r: shade(colour.r), g: shade(colour.g), b: shade(colour.b) },
    },
  })
    .jpeg()
    .toBuffer();
}

async function writeFixtureJpeg(path: string, colour: { r: number; g: number; b: number }, jitter: number) {
  writeFileSync(path, await fixtureJpeg(colour, jitter));
}
