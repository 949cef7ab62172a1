import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { initBackend, tf } from '../runtime/tf-backend.setup';

/**
 * The networks whose weights ship inside the `nsfwjs` npm package (MIT, see NOTICE), uint8-quantised, 224×224 input
 * in [0, 1]: `mobilenet_v2_mid` is the TensorFlow Hub ImageNet MobileNetV2 1.4 feature vector (a graph model) with a
 * 5-class head on top; `mobilenet_v2` is a Keras MobileNetV2 1.0 fine-tuned for that 5-class task, whose top
 * layers are tuned to it.
 */
export type BackboneModel = 'mobilenet_v2' | 'mobilenet_v2_mid';

export interface BackboneSpec {
  model: BackboneModel;
  /** Inner layers (Keras layer names, or graph node names below the MobileNetV2 scope) whose outputs are pooled. */
  layers: string[];
  /** Per channel over the spatial grid: the mean, or the mean followed by the maximum. */
  pooling: 'mean' | 'mean+max';
  /** Side of the square RGB input. */
  size: number;
}

/** What the product uses (chosen by bench:image, see docs/image-model.md). */
export const DEFAULT_BACKBONE: Readonly<BackboneSpec> = {
  model: 'mobilenet_v2_mid',
  layers: ['expanded_conv_13/expand/Relu6'],
  pooling: 'mean',
  size: 224,
};

/** The scope of the MobileNetV2 nodes in the graph model (a TensorFlow Hub module inside a Keras model). */
const GRAPH_SCOPE =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/' +
  'StatefulPartitionedCall/predict/MobilenetV2/';

interface ModelJson {
  format?: string;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Where the package keeps the model files: beside its CommonJS entry point (`dist/cjs/index.js` → `dist/models`). */
function modelDir(model: BackboneModel): string {
  return join(dirname(require.resolve('nsfwjs')), '..', 'models', model);
}

/**
 * The package ships each file as a JavaScript module exporting the JSON (model.min.js) or the weights in base64
 * (group1-shardNofM.min.js). They are read with `require` from the installed package and decoded with Buffer: the
 * package's own loader decodes base64 byte by byte (about 14 s); this takes a fraction of a second, and never
 * reaches for the network (nsfwjs.load would, for a model name it does not know).
 */
function requireModule(path: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path);
}

function readModelFiles(model: BackboneModel): { json: ModelJson; weights: Buffer } {
  const dir = modelDir(model);
  const json = requireModule(join(dir, 'model.min.js')) as ModelJson;
  const shards = json.weightsManifest.flatMap((group) => group.paths);
  const weights = Buffer.concat(
    shards.map((path) => Buffer.from(requireModule(join(dir, `${path}.min.js`)) as string, 'base64')),
  );
  return { json, weights };
}

const weightHashes = new Map<BackboneModel, string>();

/**
 * The sha256 of a model's weights as installed. It goes into the id of the features (backboneSource), so that a
 * release of the package with other weights gives other features, never ones cached from the old weights.
 */
export function backboneWeightsSha256(model: BackboneModel): string {
  let sha = weightHashes.get(model);
  if (!sha) {
    sha = createHash('sha256').update(readModelFiles(model).weights).digest('hex');
    weightHashes.set(model, sha);
  }
  return sha;
}

/** The pretrained network cut at the chosen layers: pixels in, one pooled feature vector out. */
export class PretrainedBackbone {
  private constructor(
    readonly spec: BackboneSpec,
    /** Length of each feature vector. */
    readonly featureLength: number,
    private readonly run: (input: tf.Tensor4D) => tf.Tensor[],
    private readonly disposeModel: () => void,
  ) {}

  static async load(spec: BackboneSpec = DEFAULT_BACKBONE): Promise<PretrainedBackbone> {
    if (spec.layers.length === 0) throw new Error('a backbone needs at least one layer');
    await initBackend();
    const { json, weights } = readModelFiles(spec.model);
    const artifacts: tf.io.ModelArtifacts = {
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      format: json.format,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: new Uint8Array(weights).buffer,
    };
    let run: (input: tf.Tensor4D) => tf.Tensor[];
    let disposeModel: () => void;
    if (json.format === 'graph-model') {
      const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
      const nodes = spec.layers.map((layer) => `${GRAPH_SCOPE}${layer}`);
      run = (input) => {
        const out = graph.execute(input, nodes);
        return Array.isArray(out) ? out : [out];
      };
      disposeModel = () => graph.dispose();
    } else {
      const full = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const cut = tf.model({
        inputs: full.inputs,
        outputs: spec.layers.map((name) => full.getLayer(name).output as tf.SymbolicTensor),
      });
      run = (input) => {
        const out = cut.predict(input);
        return Array.isArray(out) ? out : [out];
      };
      disposeModel = () => full.dispose();
    }
    const probe = tf.tidy(() => pool(run(tf.zeros([1, spec.size, spec.size, 3])), spec.pooling));
    const featureLength = probe.shape[1];
    probe.dispose();
    return new PretrainedBackbone(spec, featureLength, run, disposeModel);
  }

  /** Pooled features of one image given as size×size×3 RGB bytes (row-major, as decodeImage gives them). */
  extract(pixels: Uint8Array): Float32Array {
    const { size } = this.spec;
    if (pixels.length !== size * size * 3) {
      throw new Error(`expected ${size}×${size}×3 = ${size * size * 3} values, got ${pixels.length}`);
    }
    const features = tf.tidy(() => {
      // The networks were trained on values in [0, 1] (the graph model rescales to [-1, 1] itself).
      const input = tf.tensor4d(pixels, [1, size, size, 3], 'int32').toFloat().div(255) as tf.Tensor4D;
      return pool(this.run(input), this.spec.pooling);
    });
    const out = features.dataSync() as Float32Array;
    features.dispose();
    return out;
  }

  dispose(): void {
    this.disposeModel();
  }
}

/** Each output's channels averaged (and maxed) over the grid, concatenated: [1, featureLength]. */
function pool(outputs: tf.Tensor[], pooling: BackboneSpec['pooling']): tf.Tensor2D {
  const parts = outputs.flatMap((output) => {
    if (output.rank !== 4) return [output.reshape([1, -1]) as tf.Tensor2D];
    const mean = tf.mean(output, [1, 2]) as tf.Tensor2D;
    return pooling === 'mean' ? [mean] : [mean, tf.max(output, [1, 2]) as tf.Tensor2D];
  });
  return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
}
