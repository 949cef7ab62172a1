import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ProductExample } from '../data/product.types';
import { normalizeText } from '../text/text.normalizer';
import type { TrainingData } from '../fitting/training.types';

export interface EvaluationSplitOptions {
  /** Expected share of the base set's groups on the evaluation side, in (0, 1). */
  fraction: number;
  /** Mixed into every group's hash: another salt draws another split of the same data. */
  salt: string;
}

/**
 * 15 % of the groups: on the shared data 1,054 rows (855 products, 199 image-only), enough for a weighted F1 within
 * about ±0.025 (95 %) and 11 or more rows in every class, while the training side keeps 85 % of the base set.
 */
export const DEFAULT_EVALUATION_SPLIT: EvaluationSplitOptions = {
  fraction: 0.15,
  salt: 'rakuten-evaluation-1',
};

/** The evaluation side: the same shape as what `evaluateClassifier` and `evaluateOnSplit` score. */
export interface EvaluationRows {
  /** Labelled rows with text (and a photo where they have one). */
  products: ProductExample[];
  /** Labelled rows with only a photo. */
  imageOnly: ProductExample[];
}

export interface EvaluationSplitSummary {
  fraction: number;
  salt: string;
  /** Groups of base rows (rows sharing a designation key, a productid or an imageid), and how many are evaluated. */
  groups: { total: number; evaluation: number; largest: number };
  train: { products: number; imageOnly: number; extraText: number };
  evaluation: { products: number; imageOnly: number; classCounts: Record<number, number> };
  /** Training-only rows (extra_text_only, feedback) left out of training because they twin an evaluation row. */
  withheldTwins: number;
  /** Base rows with no designation and no ids, or no label: they cannot be grouped or scored, so they only train. */
  ungrouped: number;
}

export interface EvaluationSplit {
  /** What to train on: the base rows of training-side groups, plus the training-only rows that twin no evaluation row. */
  train: TrainingData;
  /** What the gate scores both models on; never trained on. */
  evaluation: EvaluationRows;
  /** sha256 of the evaluation rows' fingerprints (sorted) and the split options: names this evaluation set. */
  splitHash: string;
  summary: EvaluationSplitSummary;
}

/**
 * A frozen, group-aware split of the base data set into training and evaluation sides.
 *
 * Base rows (`products`, `imageOnly`) are grouped: rows that share a designation key (the normalised title with its
 * digits removed, so "bache 4m x 13m" and "bache 2m x 5m" are one group), a productid or an imageid are in one group,
 * transitively. A group is on the evaluation side when the sha256 of the salt and its representative key (its
 * smallest designation key, else its smallest id key) falls below `fraction`: the side depends on nothing but that
 * key, so it is the same on every machine, for any row order, and rows added to the base set later land in their own
 * groups without moving the others (unless a new row joins an existing group through a shared id while bringing a
 * designation key of its own, which can change the group's representative). The
 * hash is independent of the label, so every class gets about `fraction` of its groups: stratified in expectation
 * only, since an exact per-class quota would let new rows shift old ones.
 *
 * Training-only rows (`extraText`: extra_text_only.csv, which has no ids, and later the labelled feedback) never go to
 * the evaluation side and are never merged into the base groups; one whose key belongs to an evaluation group is
 * withheld from training instead, so that the gate never scores a twin of a training row.
 */
export function splitForEvaluation(
  data: TrainingData,
  options: EvaluationSplitOptions = DEFAULT_EVALUATION_SPLIT,
): EvaluationSplit {
  validateOptions(options);
  const groups = new KeyGroups();
  const base = [
    ...data.products.map((row) => ({ row, part: 'products' as const })),
    ...data.imageOnly.map((row) => ({ row, part: 'imageOnly' as const })),
  ];
  const keyed = base.map((entry) => ({
    ...entry,
    keys: entry.row.label === undefined ? [] : groupKeys(entry.row),
  }));
  for (const { keys } of keyed) groups.link(keys);

  const sides = groups.sides(options);
  const onEvaluationSide = (keys: string[]) => keys.length > 0 && sides.get(groups.find(keys[0]))!;
  const evaluation: EvaluationRows = { products: [], imageOnly: [] };
  const train: TrainingData = {
    products: [],
    extraText: [],
    imageOnly: [],
    categoryNames: data.categoryNames,
  };
  for (const { row, part, keys } of keyed) (onEvaluationSide(keys) ? evaluation : train)[part].push(row);

  let withheldTwins = 0;
  for (const row of data.extraText) {
    const twinsEvaluation = groupKeys(row).some((key) => groups.has(key) && sides.get(groups.find(key)));
    if (twinsEvaluation) withheldTwins++;
    else train.extraText.push(row);
  }

  const evaluated = [...evaluation.products, ...evaluation.imageOnly];
  const classCounts: Record<number, number> = {};
  for (const row of evaluated) classCounts[row.label!] = (classCounts[row.label!] ?? 0) + 1;
  return {
    train,
    evaluation,
    splitHash: splitHashOf(evaluation, options),
    summary: {
      fraction: options.fraction,
      salt: options.salt,
      groups: {
        total: sides.size,
        evaluation: [...sides.values()].filter(Boolean).length,
        largest: groups.largest(),
      },
      train: {
        products: train.products.length,
        imageOnly: train.imageOnly.length,
        extraText: train.extraText.length,
      },
      evaluation: {
        products: evaluation.products.length,
        imageOnly: evaluation.imageOnly.length,
        classCounts,
      },
      withheldTwins,
      ungrouped: keyed.filter((k) => k.keys.length === 0).length,
    },
  };
}

/** The designation key of a title: normalised (markup, case, accents, punctuation) with its digits removed. */
export function designationKey(designation: string): string {
  const normalised = normalizeText(designation);
  const withoutDigits = normalised
    .replace(/\p{N}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  // A title made only of digits ("1984") keeps them: removing them would put every such title in one group.
  return withoutDigits || normalised;
}

const TEXT = 't:';
const PRODUCT = 'p:';
const IMAGE = 'i:';

function groupKeys(row: ProductExample): string[] {
  const keys: string[] = [];
  const text = designationKey(row.designation);
  if (text) keys.push(TEXT + text);
  if (row.productId) keys.push(PRODUCT + row.productId);
  if (row.imageId) keys.push(IMAGE + row.imageId);
  return keys;
}

/** Designation keys first (they are what near-duplicates share), then product ids, then image ids. */
function representativeOrder(a: string, b: string): number {
  const rank = (key: string) => [TEXT, PRODUCT, IMAGE].indexOf(key.slice(0, 2));
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Union-find over group keys. */
class KeyGroups {
  private readonly parent = new Map<string, string>();
  private readonly size = new Map<string, number>();

  has(key: string): boolean {
    return this.parent.has(key);
  }

  /** Puts every key in one group, counting one row in it. */
  link(keys: string[]): void {
    if (keys.length === 0) return;
    for (const key of keys) if (!this.parent.has(key)) this.parent.set(key, key);
    let root = this.find(keys[0]);
    for (const key of keys.slice(1)) {
      const other = this.find(key);
      if (other === root) continue;
      this.parent.set(other, root);
      this.size.set(root, (this.size.get(root) ?? 0) + (this.size.get(other) ?? 0));
      this.size.delete(other);
    }
    root = this.find(root);
    this.size.set(root, (this.size.get(root) ?? 0) + 1);
  }

  find(key: string): string {
    let root = key;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    for (let at = key; at !== root;) {
      const next = this.parent.get(at)!;
      this.parent.set(at, root);
      at = next;
    }
    return root;
  }

  /** Rows in the largest group. */
  largest(): number {
    return Math.max(0, ...this.size.values());
  }

  /** For each group (by its root): whether it is on the evaluation side. */
  sides({ fraction, salt }: EvaluationSplitOptions): Map<string, boolean> {
    const representative = new Map<string, string>();
    for (const key of this.parent.keys()) {
      const root = this.find(key);
      const current = representative.get(root);
      if (current === undefined || representativeOrder(key, current) < 0) representative.set(root, key);
    }
    return new Map(
      [...representative].map(([root, key]) => [root, unitInterval(`${salt}\n${key}`) < fraction]),
    );
  }
}

/** A uniform number in [0, 1) from the first 48 bits of the text's sha256. */
function unitInterval(text: string): number {
  return createHash('sha256').update(text).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** Rows count by content (not by file or path), so the same data loaded from another folder or layout hashes alike. */
function splitHashOf(evaluation: EvaluationRows, options: EvaluationSplitOptions): string {
  const fingerprint = (part: string, row: ProductExample) =>
    createHash('sha256')
      .update(
        JSON.stringify([
          part,
          row.productId ?? '',
          row.imageId ?? '',
          row.label,
          row.designation,
          row.description,
          row.imagePath ? basename(row.imagePath) : '',
        ]),
      )
      .digest('hex');
  const rows = [
    ...evaluation.products.map((row) => fingerprint('products', row)),
    ...evaluation.imageOnly.map((row) => fingerprint('imageOnly', row)),
  ].sort();
  return createHash('sha256')
    .update(JSON.stringify({ fraction: options.fraction, salt: options.salt, rows }))
    .digest('hex');
}

function validateOptions({ fraction, salt }: EvaluationSplitOptions): void {
  if (!(fraction > 0 && fraction < 1)) {
    throw new RangeError(`the evaluation fraction must be between 0 and 1 (exclusive), got ${fraction}`);
  }
  if (typeof salt !== 'string' || salt === '')
    throw new RangeError('the evaluation split salt must not be empty');
}
