import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CsvTable, readCsvRecords, requireColumns } from './csv.reader';
import { DatasetError } from './dataset.error';
import { findRakutenLayout, PRODUCTS_FILE } from './rakuten-layout.reader';
import { PRODUCT_TYPE_CODES, parseProductTypeCode } from './product-type.codes';
import { ProductExample } from './product.types';

export interface DatasetReport {
  /** Every CSV file read, with its number of records (header excluded). */
  files: { name: string; rows: number }[];
  /** Image files named by `products` and `imageOnly` rows, and how many of them are on disk. */
  images: { referenced: number; found: number; missing: number };
  /** `products` rows whose description is empty. */
  emptyDescriptions: number;
  /** `products` rows per product type code; every one of the 27 codes is present, possibly with 0. */
  classCounts: Record<number, number>;
}

export interface RakutenDataset {
  layout: 'products' | 'challenge';
  /** Labelled rows with text: products.csv, or the joined X_/Y_ challenge pair. */
  products: ProductExample[];
  /** extra_text_only.csv: labelled text without ids, biased towards hard rows; for training only. [] if absent. */
  extraText: ProductExample[];
  /** image_only.csv: labelled products with an image and no text (designation and description ''). [] if absent. */
  imageOnly: ProductExample[];
  report: DatasetReport;
}

export interface LoadRakutenOptions {
  /** Folder of product photos; defaults to `<dir>/images`. */
  imagesDir?: string;
}

const EXTRA_TEXT_FILE = 'extra_text_only.csv';
const IMAGE_ONLY_FILE = 'image_only.csv';

/**
 * Loads the Rakuten product data from `dir`, in one of two layouts:
 * - 'products': `products.csv`, plus `extra_text_only.csv` and `image_only.csv` when present;
 * - 'challenge' (the official download): one `X_*.csv` that is not `X_test*.csv` (e.g. X_train_update.csv),
 *   joined on its first (index) column with the one `Y_*.csv` (e.g. Y_train_CVw08PX.csv).
 * `products.csv` wins when both are there. Missing images are counted in the report, not errors.
 */
export function loadRakutenDataset(dir: string, options: LoadRakutenOptions = {}): RakutenDataset {
  const found = findRakutenLayout(dir);
  const images = new ImageFinder(options.imagesDir ?? join(dir, 'images'), options.imagesDir !== undefined);
  const files: DatasetReport['files'] = [];
  const read = (name: string): CsvTable => {
    const table = readCsvRecords(join(dir, name));
    files.push({ name, rows: table.records.length });
    return table;
  };

  let layout: RakutenDataset['layout'];
  let products: ProductExample[];
  let extraText: ProductExample[] = [];
  let imageOnly: ProductExample[] = [];
  if (found.layout === 'products') {
    layout = 'products';
    products = readProducts(dir, read(PRODUCTS_FILE), images);
    if (found.entries.includes(EXTRA_TEXT_FILE)) extraText = readExtraText(dir, read(EXTRA_TEXT_FILE));
    if (found.entries.includes(IMAGE_ONLY_FILE)) {
      imageOnly = readImageOnly(dir, read(IMAGE_ONLY_FILE), images);
    }
  } else {
    const [xName, yName] = found.pair;
    layout = 'challenge';
    products = readChallengePair(dir, xName, read(xName), yName, read(yName), images);
  }

  const classCounts: Record<number, number> = Object.fromEntries(PRODUCT_TYPE_CODES.map((code) => [code, 0]));
  for (const product of products) classCounts[product.label as number] += 1;
  return {
    layout,
    products,
    extraText,
    imageOnly,
    report: {
      files,
      images: {
        referenced: images.referenced,
        found: images.found,
        missing: images.referenced - images.found,
      },
      emptyDescriptions: products.filter((p) => p.description === '').length,
      classCounts,
    },
  };
}

/** Resolves image file names against one listing of the images folder, counting what was asked for. */
class ImageFinder {
  private readonly dir: string;
  private readonly names: Set<string>;
  referenced = 0;
  found = 0;

  constructor(dir: string, mustExist: boolean) {
    this.dir = resolve(dir);
    // An explicitly given folder that is not there is more likely a typo than a dataset without photos.
    const exists = existsSync(this.dir);
    if (!exists && mustExist) throw new DatasetError(this.dir, 'images folder not found');
    this.names = new Set(exists ? readdirSync(this.dir) : []);
  }

  /** Absolute path when the file is in the images folder, else undefined. */
  find(fileName: string): string | undefined {
    this.referenced += 1;
    if (!this.names.has(fileName)) return undefined;
    this.found += 1;
    return join(this.dir, fileName);
  }
}

const imageFileName = (imageId: string, productId: string) => `image_${imageId}_product_${productId}.jpg`;

function withImage(example: ProductExample, imagePath: string | undefined): ProductExample {
  return imagePath === undefined ? example : { ...example, imagePath };
}

function readProducts(dir: string, { header, records }: CsvTable, images: ImageFinder): ProductExample[] {
  const file = join(dir, PRODUCTS_FILE);
  requireColumns(file, header, ['productid', 'imageid', 'designation', 'description', 'prdtypecode']);
  return records.map(({ row, values }) =>
    withImage(
      {
        designation: values.designation,
        description: values.description,
        label: parseProductTypeCode(values.prdtypecode, file, row),
        productId: values.productid,
        imageId: values.imageid,
        origin: { file: PRODUCTS_FILE, row },
      },
      images.find(values.image_file || imageFileName(values.imageid, values.productid)),
    ),
  );
}

function readExtraText(dir: string, { header, records }: CsvTable): ProductExample[] {
  const file = join(dir, EXTRA_TEXT_FILE);
  requireColumns(file, header, ['designation', 'description', 'prdtypecode']);
  return records.map(({ row, values }) => ({
    designation: values.designation,
    description: values.description,
    label: parseProductTypeCode(values.prdtypecode, file, row),
    origin: { file: EXTRA_TEXT_FILE, row },
  }));
}

function readImageOnly(dir: string, { header, records }: CsvTable, images: ImageFinder): ProductExample[] {
  const file = join(dir, IMAGE_ONLY_FILE);
  requireColumns(file, header, ['productid', 'imageid', 'prdtypecode']);
  return records.map(({ row, values }) =>
    withImage(
      {
        designation: '',
        description: '',
        label: parseProductTypeCode(values.prdtypecode, file, row),
        productId: values.productid,
        imageId: values.imageid,
        origin: { file: IMAGE_ONLY_FILE, row },
      },
      images.find(values.image_file || imageFileName(values.imageid, values.productid)),
    ),
  );
}

/** Joins X (index, designation, description, productid, imageid) and Y (index, prdtypecode) on the index. */
function readChallengePair(
  dir: string,
  xName: string,
  x: CsvTable,
  yName: string,
  y: CsvTable,
  images: ImageFinder,
): ProductExample[] {
  const xFile = join(dir, xName);
  const yFile = join(dir, yName);
  const xColumns = ['designation', 'description', 'productid', 'imageid'];
  requireColumns(xFile, x.header, xColumns);
  requireColumns(yFile, y.header, ['prdtypecode']);
  const xIndex = indexColumn(xFile, x.header, xColumns);
  const yIndex = indexColumn(yFile, y.header, ['prdtypecode']);

  const labels = new Map<string, { label: number; row: number }>();
  for (const { row, values } of y.records) {
    const index = values[yIndex];
    const seen = labels.get(index);
    if (seen) throw new DatasetError(yFile, `index "${index}" appears again (first at row ${seen.row})`, row);
    labels.set(index, { label: parseProductTypeCode(values.prdtypecode, yFile, row), row });
  }

  const joined = new Set<string>();
  const products = x.records.map(({ row, values }) => {
    const index = values[xIndex];
    const y = labels.get(index);
    if (!y) throw new DatasetError(xFile, `index "${index}" has no label row in ${yName}`, row);
    if (joined.has(index)) throw new DatasetError(xFile, `index "${index}" appears more than once`, row);
    joined.add(index);
    return withImage(
      {
        designation: values.designation,
        description: values.description,
        label: y.label,
        productId: values.productid,
        imageId: values.imageid,
        origin: { file: xName, row },
      },
      images.find(imageFileName(values.imageid, values.productid)),
    );
  });

  for (const [index, { row }] of labels) {
    if (!joined.has(index))
      throw new DatasetError(yFile, `index "${index}" has no product row in ${xName}`, row);
  }
  return products;
}

/** The challenge files start with an index column, unnamed in the official release (pandas may call it "Unnamed: 0"). */
function indexColumn(file: string, header: string[], dataColumns: string[]): string {
  if (dataColumns.includes(header[0])) {
    throw new DatasetError(
      file,
      `expected an index column before ${header[0]}; the first column is ${header[0]}`,
      1,
    );
  }
  return header[0];
}
