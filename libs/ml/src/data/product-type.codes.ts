import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvRecords, requireColumns } from './csv.reader';
import { DatasetError } from './dataset.error';

/** The 27 product type codes (prdtypecode) of the Rakuten France challenge, ascending. */
export const PRODUCT_TYPE_CODES: readonly number[] = [
  10, 40, 50, 60, 1140, 1160, 1180, 1280, 1281, 1300, 1301, 1302, 1320, 1560, 1920, 1940, 2060, 2220, 2280,
  2403, 2462, 2522, 2582, 2583, 2585, 2705, 2905,
];

const KNOWN_CODES = new Set(PRODUCT_TYPE_CODES);

/** French names guessed by students (Konarovic/Rakuten); Rakuten never published official ones. */
export const DEFAULT_CATEGORY_NAMES: Readonly<Record<number, string>> = {
  10: 'Livres occasion',
  40: 'Jeux vidéo CDs équipement',
  50: 'Accessoires gaming',
  60: 'Consoles de jeu',
  1140: 'Figurines et objet pop culture',
  1160: 'Cartes de jeux',
  1180: 'Figurines et jeux de rôle',
  1280: 'Jouets enfants',
  1281: 'Jeux de société enfants',
  1300: 'Jeux techniques',
  1301: 'Vêtements enfant',
  1302: 'Pêche',
  1320: 'Puériculture',
  1560: 'Mobilier',
  1920: 'Linge de maison',
  1940: 'Confiseries',
  2060: 'Maison Décoration',
  2220: 'Animalerie',
  2280: 'Magazines occasion',
  2403: 'Livres BD magazines',
  2462: 'Jeux vidéo occasion',
  2522: 'Fournitures de bureau',
  2582: 'Mobilier de jardin',
  2583: 'Piscines et accessoires',
  2585: 'Outillages de jardin',
  2705: 'Livres neufs',
  2905: 'Jeux vidéo pour PC',
};

export const CATEGORY_NAMES_FILE = 'category_names_community.csv';

/** Parses a prdtypecode cell; anything but one of the 27 codes is a DatasetError naming file, row and value. */
export function parseProductTypeCode(value: string, file: string, row: number): number {
  const code = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isInteger(code)) {
    throw new DatasetError(file, `prdtypecode ${JSON.stringify(value)} is not a whole number`, row);
  }
  if (!KNOWN_CODES.has(code)) {
    throw new DatasetError(
      file,
      `prdtypecode ${JSON.stringify(value)} is not one of the 27 product type codes (${PRODUCT_TYPE_CODES.join(', ')})`,
      row,
    );
  }
  return code;
}

/** Names from `category_names_community.csv` in `dir` when that file exists, else DEFAULT_CATEGORY_NAMES. */
export function loadCategoryNames(dir: string): Record<number, string> {
  const file = join(dir, CATEGORY_NAMES_FILE);
  if (!existsSync(file)) return { ...DEFAULT_CATEGORY_NAMES };
  const { header, records } = readCsvRecords(file);
  requireColumns(file, header, ['prdtypecode', 'community_name_fr']);
  const names: Record<number, string> = {};
  for (const { row, values } of records) {
    names[parseProductTypeCode(values.prdtypecode, file, row)] = values.community_name_fr;
  }
  return names;
}
