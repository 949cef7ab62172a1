/**
 * Draws the demo catalogue's invented product photos (see README.md): for the first PHOTOS_PER_CODE rows of each
 * code, a 64×64 JPEG of a simple drawing typical of that code (a pool, a book, a controller...), varied by a seeded
 * generator so that no two are the same and every run writes the same files.
 *
 *   npx ts-node -T libs/ml/assets/demo-catalogue/make-photos.script.ts
 */
import { parse } from 'csv-parse/sync';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { SeededRandom } from '../../src/runtime/random.util';

const PHOTOS_PER_CODE = 4;
const SIZE = 64;
const DIR = __dirname;

type Draw = (r: Jitter) => string;

/** Small random changes of place, size and shade around a drawing's nominal values. */
class Jitter {
  constructor(private readonly rng: SeededRandom) {}
  /** `value` moved by up to ±`spread`. */
  n(value: number, spread = 4): number {
    return Math.round((value + (this.rng.next() * 2 - 1) * spread) * 10) / 10;
  }
  /** `hex` lightened or darkened by up to ±`spread` on each channel. */
  c(hex: string, spread = 18): string {
    const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const shift = Math.round((this.rng.next() * 2 - 1) * spread);
    return `#${channels
      .map((v) =>
        Math.max(0, Math.min(255, v + shift))
          .toString(16)
          .padStart(2, '0'),
      )
      .join('')}`;
  }
  pick<T>(options: T[]): T {
    return options[this.rng.int(options.length)];
  }
}

const rect = (x: number, y: number, w: number, h: number, fill: string, extra = '') =>
  `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${fill}" ${extra}/>`;
const circle = (cx: number, cy: number, r: number, fill: string, extra = '') =>
  `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}" ${extra}/>`;
const lines = (x: number, y: number, w: number, count: number, gap: number, colour: string) =>
  Array.from({ length: count }, (_, i) => rect(x, y + i * gap, w, 2, colour)).join('');

/** What each product type code's photos show. */
const DRAWINGS: Record<number, Draw> = {
  // Second-hand book: a yellowed cover with a worn spine.
  10: (j) =>
    rect(j.n(28), j.n(14), 44, 72, j.c('#d9c48f'), 'rx="2"') +
    rect(28, 14, 7, 72, j.c('#8a6a3a')) +
    lines(42, 30, 22, 3, 7, '#6b5535'),
  // Video game box with a disc beside it.
  40: (j) =>
    rect(j.n(18), j.n(16), 40, 62, j.c('#1d3f8f')) +
    circle(j.n(68), j.n(60), 22, '#d8dde6') +
    circle(68, 60, 5, '#ffffff'),
  // Gaming accessory: a black controller with coloured buttons.
  50: (j) =>
    rect(j.n(16), j.n(36), 68, 32, j.c('#202226'), 'rx="14"') +
    circle(j.n(33), 52, 6, '#555a62') +
    circle(66, 46, 3.5, '#d83a3a') +
    circle(72, 53, 3.5, '#3aa34a') +
    circle(60, 53, 3.5, '#3a6fd8'),
  // Console: a flat black box with a blue light.
  60: (j) => rect(j.n(12), j.n(40), 76, 24, j.c('#15161a'), 'rx="3"') + rect(20, 50, 30, 2, '#2a8cff'),
  // Pop-culture figure: a big-headed vinyl figure.
  1140: (j) =>
    circle(j.n(50), j.n(34), 20, j.c('#f2c9a0')) +
    rect(j.n(36), 52, 28, 32, j.c('#c8282e'), 'rx="6"') +
    circle(43, 33, 4, '#111') +
    circle(57, 33, 4, '#111'),
  // Trading cards fanned out.
  1160: (j) =>
    [-18, 0, 18]
      .map((a, i) =>
        rect(
          38,
          22,
          26,
          40,
          j.c(['#e8b030', '#3b7dd8', '#d84a3b'][i]),
          `rx="2" stroke="#fff" stroke-width="2" transform="rotate(${j.n(a)} 50 70)"`,
        ),
      )
      .join(''),
  // Role-playing miniature on its base and a d20.
  1180: (j) =>
    rect(j.n(22), 74, 26, 6, '#444') +
    rect(29, j.n(36), 12, 38, j.c('#8a8f96')) +
    circle(35, 30, 7, j.c('#8a8f96')) +
    `<polygon points="70,44 84,52 84,68 70,76 56,68 56,52" fill="${j.c('#7a2bb0')}"/>`,
  // Children's toys: stacked coloured blocks.
  1280: (j) =>
    rect(j.n(20), 56, 24, 24, j.c('#e83a3a')) +
    rect(j.n(48), 56, 24, 24, j.c('#3a8ce8')) +
    rect(j.n(34), 32, 24, 24, j.c('#f2c230')),
  // Board game: a checkered board.
  1281: (j) => {
    const x = j.n(18);
    const y = j.n(18);
    const dark = j.c('#2f6b3a');
    return (
      rect(x, y, 64, 64, '#f3ead2') +
      Array.from({ length: 16 }, (_, k) =>
        (k + Math.floor(k / 4)) % 2 ? rect(x + (k % 4) * 16, y + Math.floor(k / 4) * 16, 16, 16, dark) : '',
      ).join('')
    );
  },
  // Technical toy: a drone with four rotors.
  1300: (j) =>
    rect(j.n(38), j.n(42), 24, 16, j.c('#6b7078'), 'rx="4"') +
    [
      [24, 30],
      [76, 30],
      [24, 70],
      [76, 70],
    ]
      .map(([x, y]) => circle(x, y, 11, 'none', `stroke="${j.c('#30343a')}" stroke-width="3"`))
      .join(''),
  // Child's T-shirt in a pastel colour.
  1301: (j) =>
    `<path d="M30 24 L42 20 Q50 28 58 20 L70 24 L82 38 L72 46 L70 82 L30 82 L28 46 L18 38 Z" fill="${j.c(j.pick(['#f5a9c8', '#a9d8f5', '#b8f0b0']))}"/>`,
  // Fishing: a rod, its line and a fish.
  1302: (j) =>
    `<line x1="12" y1="88" x2="${j.n(80)}" y2="14" stroke="#5a3b1c" stroke-width="3"/><line x1="80" y1="14" x2="72" y2="60" stroke="#999" stroke-width="1"/>` +
    `<ellipse cx="${j.n(64)}" cy="70" rx="16" ry="8" fill="${j.c('#3f8f8a')}"/>`,
  // Childcare: a pram.
  1320: (j) =>
    `<path d="M22 40 A28 28 0 0 0 78 40 Z" fill="${j.c('#9fc3e6')}"/>` +
    rect(22, 40, 56, 18, j.c('#9fc3e6')) +
    circle(j.n(32), 72, 9, '#333') +
    circle(j.n(68), 72, 9, '#333'),
  // Furniture: a wooden table.
  1560: (j) =>
    rect(j.n(14), j.n(38), 72, 9, j.c('#9a6636')) +
    rect(20, 47, 7, 38, j.c('#7d4f26')) +
    rect(73, 47, 7, 38, j.c('#7d4f26')),
  // Household linen: folded towels.
  1920: (j) =>
    [0, 1, 2]
      .map((i) => rect(j.n(22), 30 + i * 16, 56, 14, j.c(['#e9e2d0', '#c9d8e8', '#e8c9c9'][i]), 'rx="4"'))
      .join(''),
  // Sweets: a heap of coloured candies.
  1940: (j) =>
    Array.from({ length: 9 }, (_, i) =>
      circle(
        j.n(30 + (i % 3) * 20, 5),
        j.n(34 + Math.floor(i / 3) * 16, 4),
        8,
        j.c(['#e84a8a', '#f2c230', '#4ac8e8', '#7ad84a'][i % 4]),
      ),
    ).join(''),
  // Home decoration: a vase with a branch.
  2060: (j) =>
    `<path d="M38 40 Q30 60 40 84 L60 84 Q70 60 62 40 Z" fill="${j.c('#c86a4a')}"/><line x1="50" y1="40" x2="${j.n(40, 8)}" y2="12" stroke="#4a7a3a" stroke-width="2"/>` +
    circle(j.n(40, 8), 14, 5, '#e8a0b0'),
  // Pet supplies: a bowl and a bone.
  2220: (j) =>
    `<path d="M20 60 L80 60 L72 80 L28 80 Z" fill="${j.c('#d84a4a')}"/>` +
    rect(j.n(34), 34, 32, 8, '#f2ead8', 'rx="4"') +
    circle(34, 34, 6, '#f2ead8') +
    circle(34, 42, 6, '#f2ead8') +
    circle(66, 34, 6, '#f2ead8') +
    circle(66, 42, 6, '#f2ead8'),
  // Second-hand magazine: a faded cover with a big title band.
  2280: (j) =>
    rect(j.n(24), j.n(12), 52, 76, j.c('#e6e0d4')) +
    rect(24, 12, 52, 14, j.c('#b04a4a')) +
    rect(30, 34, 40, 30, j.c('#a9a293')) +
    lines(30, 70, 40, 2, 6, '#777'),
  // Comics: a page of panels.
  2403: (j) =>
    rect(j.n(20), j.n(12), 60, 76, '#ffffff', 'stroke="#222" stroke-width="2"') +
    rect(24, 16, 25, 30, j.c('#f2c230')) +
    rect(52, 16, 24, 30, j.c('#4ac8e8')) +
    rect(24, 50, 52, 34, j.c('#e85a4a')),
  // Second-hand video game: a grey cartridge with a label.
  2462: (j) =>
    `<path d="M28 20 L72 20 L72 84 L28 84 Z" fill="${j.c('#8c8c8c')}"/>` +
    rect(j.n(34), 30, 32, 26, j.c('#d8a030')) +
    lines(34, 66, 32, 3, 5, '#5a5a5a'),
  // Office supplies: a notebook and pens.
  2522: (j) =>
    rect(j.n(18), j.n(20), 44, 60, j.c('#2f5fa8'), 'rx="2"') +
    [0, 1, 2]
      .map((i) => rect(68 + i * 6, j.n(24), 4, 54, ['#d83a3a', '#222', '#3a8c3a'][i], 'rx="2"'))
      .join(''),
  // Garden furniture: a parasol over a green chair.
  2582: (j) =>
    `<path d="M14 40 Q50 ${j.n(8)} 86 40 Z" fill="${j.c('#e8e0c0')}"/><line x1="50" y1="30" x2="50" y2="88" stroke="#777" stroke-width="2"/>` +
    rect(58, 62, 20, 6, j.c('#3a8c4a')) +
    rect(74, 46, 4, 36, j.c('#3a8c4a')),
  // Pool: an above-ground pool seen from above, blue water in a grey ring.
  2583: (j) =>
    circle(j.n(50), j.n(52), 38, j.c('#c9d2da')) +
    circle(50, 52, 32, j.c('#2f8fd8')) +
    `<path d="M30 50 Q40 44 50 50 T70 50" stroke="#9fd4f5" stroke-width="2" fill="none"/>`,
  // Garden tools: a spade with a red handle.
  2585: (j) =>
    rect(j.n(46), 10, 8, 50, j.c('#c83a2a'), 'rx="3"') +
    `<path d="M36 58 L64 58 L60 86 L40 86 Z" fill="${j.c('#8a9096')}"/>`,
  // New book: a glossy, brightly coloured cover.
  2705: (j) =>
    rect(j.n(28), j.n(14), 44, 72, j.c(j.pick(['#1f9e8a', '#e8602a', '#5a3ad8'])), 'rx="2"') +
    rect(34, 24, 32, 8, '#ffffff') +
    circle(50, 58, 12, '#ffffff', 'opacity="0.7"'),
  // PC game: a box beside a keyboard.
  2905: (j) =>
    rect(j.n(14), j.n(12), 38, 50, j.c('#3a2a6a')) +
    rect(14, 68, 72, 18, j.c('#2a2c30'), 'rx="2"') +
    lines(18, 72, 64, 3, 4, '#6a6e76'),
};

const BACKGROUNDS = ['#ffffff', '#f6f4ef', '#eef1f4', '#f4efe9'];

async function main(): Promise<void> {
  const rows = parse(readFileSync(join(DIR, 'products.csv')), { columns: true }) as Record<string, string>[];
  const out = join(DIR, 'images');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const rng = new SeededRandom(2026);
  const jitter = new Jitter(rng);
  const count = new Map<number, number>();
  let bytes = 0;
  for (const row of rows) {
    const code = Number(row.prdtypecode);
    if ((count.get(code) ?? 0) >= PHOTOS_PER_CODE) continue;
    count.set(code, (count.get(code) ?? 0) + 1);
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 100 100">` +
      `${rect(0, 0, 100, 100, jitter.pick(BACKGROUNDS))}${DRAWINGS[code](jitter)}</svg>`;
    const jpeg = await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
    writeFileSync(join(out, `demo_${row.productid}.jpg`), jpeg);
    bytes += jpeg.length;
  }
  const photos = [...count.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`${photos} photos, ${(bytes / 1024).toFixed(0)} KiB, in ${out}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
