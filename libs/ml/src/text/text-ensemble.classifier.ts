import { availableParallelism } from 'node:os';
import type { SerializedComponent } from '../artifacts/model-artifact.format';
import { stratifiedSample } from '../evaluation/stratified-sample.util';
import {
  LinearSvmClassifier,
  LINEAR_VIEW_C,
  LINEAR_VIEWS,
  type LinearSvmOptions,
} from './linear-svm.classifier';
import {
  SparseRowBuffer,
  TextFeatureExtractor,
  type ProductText,
  type VocabularyIndex,
} from './text-features.extractor';
import { HashedTerms, type TextHasher } from './text-hashing.util';
import { trainNetworkInThread } from './text-network.thread';
import type { EpochProgress } from '../runtime/epoch-progress.types';
import { runInSlices, runNow, type SlicedWork } from '../runtime/sliced-work.util';
import { TextClassifier, type TextClassifierOptions } from './text.classifier';

export type LinearView = keyof typeof LINEAR_VIEWS;

export interface TextEnsembleOptions {
  seed: number;
  /** Neural models trained with consecutive seeds; their average counts as one vote. */
  neuralModels: number;
  /**
   * Most rows each network trains on: above it, each network draws its own stratified sample (seeded like the
   * network). A network's epochs and its sparse tables grow with its rows; the linear models still read every row.
   */
  neuralMaxRows: number;
  /** One linear SVM per view. */
  linearViews: LinearView[];
  /**
   * Share of the answer that the linear models give, split evenly among them; the networks' mean gives the rest.
   * Used only when the ensemble has both kinds.
   */
  linearVote: number;
  /**
   * Networks trained at once, each in a worker thread of its own, while the calling thread trains the linear models;
   * 0 (or unset): all in the calling thread, one after the other. Threads are only started for trainings of at
   * least THREADED_MIN_ROWS rows, where they save more than the second or so each takes to start.
   */
  threads?: number;
  neural?: Partial<TextClassifierOptions>;
  linear?: Partial<LinearSvmOptions>;
}

export const DEFAULT_TEXT_ENSEMBLE_OPTIONS: TextEnsembleOptions = {
  seed: 0,
  neuralModels: 3,
  neuralMaxRows: 20_000,
  // The listing view's SVM alone beside the networks: the blocked and merged views' SVMs add nothing to it (5-fold
  // CV, text only: 0.7826; 0.7801 with the blocked view's too) and cost a model each.
  linearViews: ['listing'],
  // 5-fold CV, text only, every model trained on every training row: 0.7914 at 0.7, 0.7896 at 0.6, 0.7874 at 0.5
  // (an equal vote); the SVM alone 0.7882, the networks' mean 0.7630 (docs/benchmarks.md).
  linearVote: 0.7,
  threads: Math.min(availableParallelism(), 3),
};

const THREADED_MIN_ROWS = 2_000;

const NEURAL_PREFIX = 'text-neural-';
const LINEAR_PREFIX = 'text-linear-';

type TextModel = TextClassifier | LinearSvmClassifier;

/** Models whose features hash a text the same way: the text is hashed once and weighed once for all of them. */
interface HashingGroup {
  hasher: TextHasher;
  terms: HashedTerms;
  index: VocabularyIndex;
  /** The rows of each member model, in the index's order. */
  rows: SparseRowBuffer[];
}

/** Each model's rows of one chunk of texts, row i being entries [starts[i], starts[i + 1]) of `rows`. */
interface ModelRows {
  model: TextModel;
  rows: SparseRowBuffer;
  starts: Int32Array;
  /** Its probabilities for the chunk, row-major. */
  votes: Float32Array;
  /** The weight of its probabilities in the ensemble's answer; the weights of all models add up to 1. */
  weight: number;
}

/** Each model's share of the answer, linear models first, as the serialized components record it. */
function voteWeights(linearCount: number, neuralCount: number, linearVote: number): number[] {
  const linearShare = neuralCount === 0 ? 1 : linearCount === 0 ? 0 : linearVote;
  return [
    ...Array.from({ length: linearCount }, () => linearShare / linearCount),
    ...Array.from({ length: neuralCount }, () => (1 - linearShare) / neuralCount),
  ];
}

/**
 * The weights of the components of an ensemble saved before weights were recorded: each linear model one vote and
 * the networks' mean one vote, all equal.
 */
function equalVotes(linearCount: number, neuralCount: number): number[] {
  return voteWeights(linearCount, neuralCount, linearCount / (linearCount + (neuralCount > 0 ? 1 : 0)));
}

/** Runs task(0..count-1), at most `lanes` at a time, each lane taking the next index when its task is done. */
async function inLanes<T>(count: number, lanes: number, task: (k: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const k = next++;
      results[k] = await task(k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
  return results;
}

/**
 * Texts predicted together: all are hashed and weighed first, then each model scores them all in turn, so that one
 * model's tables at a time compete for the cache (a sixth faster than model after model for each text, at 256).
 */
const CHUNK = 256;

/**
 * The text side of the classifier: a bag of wide-and-deep networks and linear SVMs over views of the text. Each
 * vote is a probability distribution; the ensemble answers their weighted mean, the linear models' share set by
 * `linearVote` (a normalised geometric mean was measured no better: 5-fold CV 0.7787 against 0.7801, listing and
 * blocked SVMs with the networks). Averaging networks
 * of different seeds removes much of their variance, and the linear models add different mistakes to average out.
 * Each network fits its own features on its own training split: sharing one extractor among them was measured
 * both less accurate (fold 1 of the CV: 0.7730 against 0.7799) and no faster.
 */
export class TextEnsemble {
  private readonly groups: HashingGroup[];
  /** Every model, linear models first, then neural ones, with its rows. */
  private readonly models: ModelRows[];

  private constructor(
    private readonly neural: TextClassifier[],
    private readonly linear: LinearSvmClassifier[],
    models: ModelRows[],
    groups: HashingGroup[],
  ) {
    this.models = models;
    this.groups = groups;
  }

  /** Linear models first, then neural ones, each with its weight; one shared vocabulary index per hashing. */
  private static *assemble(
    neural: TextClassifier[],
    linear: LinearSvmClassifier[],
    weights: number[],
  ): SlicedWork<TextEnsemble> {
    const models: ModelRows[] = [...linear, ...neural].map((model, m) => ({
      model,
      rows: new SparseRowBuffer(),
      starts: new Int32Array(CHUNK + 1),
      votes: new Float32Array(CHUNK * model.numClasses),
      weight: weights[m],
    }));
    const byKey = new Map<string, ModelRows[]>();
    for (const entry of models) {
      const key = entry.model.features.hasher.key;
      byKey.set(key, [...(byKey.get(key) ?? []), entry]);
    }
    const groups: HashingGroup[] = [];
    for (const members of byKey.values()) {
      groups.push({
        hasher: members[0].model.features.hasher,
        terms: new HashedTerms(),
        index: yield* TextFeatureExtractor.sharedIndex(members.map(({ model }) => model.features)),
        rows: members.map(({ rows }) => rows),
      });
    }
    return new TextEnsemble(neural, linear, models, groups);
  }

  static async train(
    texts: ProductText[],
    labels: number[],
    numClasses: number,
    options: TextEnsembleOptions,
    log: (line: string) => void,
    onEpoch?: (model: string, progress: EpochProgress) => void,
  ): Promise<TextEnsemble> {
    const threaded = (options.threads ?? 0) > 0 && texts.length >= THREADED_MIN_ROWS;
    const network = (k: number): Promise<TextClassifier> => {
      const name = `${NEURAL_PREFIX}${k}`;
      const rows = stratifiedSample(labels, options.neuralMaxRows, options.seed + k);
      log(
        `training ${name} (seed ${options.seed + k}` +
          (rows.length < texts.length ? `, ${rows.length} of ${texts.length} rows)` : ')'),
      );
      const sample = {
        texts: rows.map((i) => texts[i]),
        labels: rows.map((i) => labels[i]),
        numClasses,
        options: { ...options.neural, seed: options.seed + k },
      };
      const progress = (p: EpochProgress) => onEpoch?.(name, p);
      return threaded
        ? trainNetworkInThread(sample, progress)
        : TextClassifier.train(sample.texts, sample.labels, numClasses, sample.options, progress);
    };
    const networks = inLanes(options.neuralModels, threaded ? options.threads! : 1, network);
    // In threads, the networks are under way: the linear models train meanwhile, in this thread.
    if (!threaded) await networks;
    const linear = TextEnsemble.trainLinear(texts, labels, numClasses, options, log);
    const neural = await networks;
    if (neural.length + linear.length === 0) throw new Error('The text ensemble needs at least one model');
    return runNow(
      TextEnsemble.assemble(neural, linear, voteWeights(linear.length, neural.length, options.linearVote)),
    );
  }

  private static trainLinear(
    texts: ProductText[],
    labels: number[],
    numClasses: number,
    options: TextEnsembleOptions,
    log: (line: string) => void,
  ): LinearSvmClassifier[] {
    return options.linearViews.map((view, k) => {
      const started = Date.now();
      const model = LinearSvmClassifier.train(texts, labels, numClasses, {
        ...options.linear,
        features: LINEAR_VIEWS[view],
        c: options.linear?.c ?? LINEAR_VIEW_C[view],
        seed: options.seed + k,
      });
      log(
        `trained ${LINEAR_PREFIX}${k} (${view} view, ${texts.length} rows) in ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return model;
    });
  }

  /**
   * The same networks beside linear models trained anew on these rows, with the same views and options: the
   * calibration slice, once its temperatures are fitted, trains the linear models too (a few seconds each), while
   * retraining the networks on it would double the training time.
   */
  withLinearRetrained(
    texts: ProductText[],
    labels: number[],
    options: TextEnsembleOptions,
    log: (line: string) => void,
  ): TextEnsemble {
    if (this.linear.length === 0) return this;
    const numClasses = this.models[0].model.numClasses;
    const linear = TextEnsemble.trainLinear(texts, labels, numClasses, options, log);
    return runNow(
      TextEnsemble.assemble(
        this.neural,
        linear,
        this.models.map(({ weight }) => weight),
      ),
    );
  }

  /**
   * The weighted mean of the votes, row-major texts × classes. Each text is hashed once per hashing group, and then each
   * model weighs those shared terms with its own vocabulary and IDF.
   */
  predictProba(texts: ProductText[]): Float32Array {
    const numClasses = this.models[0].model.numClasses;
    const out = new Float32Array(texts.length * numClasses);
    for (let from = 0; from < texts.length; from += CHUNK) {
      this.predictChunk(texts, from, Math.min(texts.length, from + CHUNK), out);
    }
    return out;
  }

  private predictChunk(texts: ProductText[], from: number, to: number, out: Float32Array): void {
    const { models, groups } = this;
    const numClasses = models[0].model.numClasses;
    for (const { rows } of models) rows.length = 0;
    for (let n = from; n < to; n++) {
      for (const { starts, rows } of models) starts[n - from] = rows.length;
      for (const { hasher, terms, index, rows } of groups) index.weigh(hasher.hash(texts[n], terms), rows);
    }
    for (const { model, rows, starts, votes } of models) {
      starts[to - from] = rows.length;
      for (let i = 0; i < to - from; i++)
        model.scoreRow(rows, starts[i], starts[i + 1], votes, i * numClasses);
    }
    for (let i = 0; i < to - from; i++) {
      const mean = out.subarray((from + i) * numClasses, (from + i + 1) * numClasses);
      const at = i * numClasses;
      for (const { votes, weight } of models) {
        for (let c = 0; c < numClasses; c++) mean[c] += votes[at + c] * weight;
      }
    }
  }

  /** The vocabulary of the ensemble's first model (a linear one when it has any: those fit on every training text). */
  get leadFeatures(): TextFeatureExtractor {
    return this.models[0].model.features;
  }

  /** Whether an artifact component is one of the ensemble's models. */
  static isComponent(this: void, name: string): boolean {
    return name.startsWith(NEURAL_PREFIX) || name.startsWith(LINEAR_PREFIX);
  }

  /** Each model as a component, its manifest carrying its weight in the answer (`vote`). */
  serialize(): Record<string, SerializedComponent> {
    const weighted = (model: TextModel) => {
      const { manifest, files } = model.serialize();
      const vote = this.models.find((entry) => entry.model === model)!.weight;
      return { manifest: { ...manifest, vote }, files };
    };
    return Object.fromEntries([
      ...this.neural.map((model, k) => [`${NEURAL_PREFIX}${k}`, weighted(model)]),
      ...this.linear.map((model, k) => [`${LINEAR_PREFIX}${k}`, weighted(model)]),
    ]);
  }

  /**
   * Rebuilds the ensemble from the artifact's components; other components (the image model) are ignored. With
   * `consumeFiles`, the models' weight files are emptied as soon as they are copied (see TextClassifier.deserialize).
   * The work runs in slices of about 10 ms with turns of the event loop between them: a serving process loads a new
   * version while it answers requests, and every request and socket timer would wait out one long stretch.
   */
  static deserialize(
    components: Record<string, SerializedComponent>,
    options: { consumeFiles?: boolean } = {},
  ): Promise<TextEnsemble> {
    return runInSlices(TextEnsemble.rebuild(components, options));
  }

  private static *rebuild(
    components: Record<string, SerializedComponent>,
    options: { consumeFiles?: boolean },
  ): SlicedWork<TextEnsemble> {
    const named = (prefix: string) =>
      Object.keys(components)
        .filter((name) => name.startsWith(prefix))
        .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)))
        .map((name) => components[name]);
    const neural: TextClassifier[] = [];
    const neuralVotes: unknown[] = [];
    for (const { manifest, files } of named(NEURAL_PREFIX)) {
      neural.push(yield* TextClassifier.deserialize(manifest, files, options));
      neuralVotes.push(manifest.vote);
    }
    const linear: LinearSvmClassifier[] = [];
    const linearVotes: unknown[] = [];
    for (const { manifest, files } of named(LINEAR_PREFIX)) {
      linear.push(yield* LinearSvmClassifier.deserialize(manifest, files, options));
      linearVotes.push(manifest.vote);
    }
    if (neural.length + linear.length === 0) throw new Error('no text components');
    const votes = [...linearVotes, ...neuralVotes];
    let weights: number[];
    if (votes.every((vote) => vote === undefined)) weights = equalVotes(linear.length, neural.length);
    else if (votes.every((vote) => typeof vote === 'number' && Number.isFinite(vote) && vote >= 0)) {
      weights = votes as number[];
    } else throw new Error('the text components record their votes inconsistently');
    return yield* TextEnsemble.assemble(neural, linear, weights);
  }

  /** Nothing to free (the weights are plain arrays): the text part's interface, which the thread pool needs. */
  dispose(): void {}
}
