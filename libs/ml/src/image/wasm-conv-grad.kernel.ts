import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type KernelArgs = Parameters<KernelFunc>[0];

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Runs wasm kernels directly and frees every intermediate result except the one returned. */
class KernelRunner {
  private readonly temporaries: TensorInfo[] = [];

  constructor(private readonly backend: KernelArgs['backend']) {}

  run(name: string, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`wasm kernel ${name} is missing`);
    const out = kernel.kernelFunc({
      inputs,
      backend: this.backend,
      attrs: attrs as tf.NamedAttrMap,
    }) as TensorInfo;
    this.temporaries.push(out);
    return out;
  }

  finish(result: TensorInfo): TensorInfo {
    const backend = this.backend as unknown as { disposeData(dataId: object): void };
    for (const t of this.temporaries) if (t !== result) backend.disposeData(t.dataId);
    return result;
  }
}

/**
 * The wasm backend has no Conv2DBackpropFilter kernel, so a Conv2D layer cannot be trained there. The filter
 * gradient is itself a correlation: dW[i,j,c,o] = Σ_{b,y,x} xPadded[b, y·s+i, x·s+j, c] · dy[b,y,x,o]. Laying the
 * batch out as channels turns it into one ordinary Conv2D that wasm (XNNPACK) runs fast:
 * input xPadded as [C, Hp, Wp, B], filter dy as [Ho, Wo, B, O], dilation = stride, 'valid' → [C, kh', kw', O].
 */
function conv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const k = new KernelRunner(args.backend);
  const { top, bottom, left, right } = info.padInfo;
  const paddings = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  const padded = k.run('PadV2', { x }, { paddings, constantValue: 0 });
  const xT = k.run('Transpose', { x: padded }, { perm: [3, 1, 2, 0] });
  const dyT = k.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const dilations = [info.strideHeight, info.strideWidth];
  const corr = k.run(
    'Conv2D',
    { x: xT, filter: dyT },
    { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations },
  );
  const [kh, kw, cin, cout] = attrs.filterShape;
  const cropped = k.run('Slice', { x: corr }, { begin: [0, 0, 0, 0], size: [cin, kh, kw, cout] });
  return k.finish(k.run('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] }));
}

/**
 * wasm's own Conv2DBackpropInput is a plain loop, by far the slowest step of training. For stride 1 the input
 * gradient is a correlation of the (re-padded) output gradient with the flipped, channel-swapped filter, which
 * XNNPACK's Conv2D runs many times faster. Other strides keep the original kernel.
 */
function conv2dBackpropInput(fallback: KernelFunc) {
  return (args: KernelArgs): TensorInfo => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
    const strides = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
    if (attrs.dataFormat !== 'NHWC' || strides[0] !== 1 || strides[1] !== 1)
      return fallback(args) as TensorInfo;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      1,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const [kh, kw] = filter.shape;
    const { top, bottom, left, right } = info.padInfo;
    const k = new KernelRunner(args.backend);
    const paddings = [
      [0, 0],
      [kh - 1 - top, kh - 1 - bottom],
      [kw - 1 - left, kw - 1 - right],
      [0, 0],
    ];
    const padded = k.run('PadV2', { x: dy }, { paddings, constantValue: 0 });
    const flipped = k.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = k.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
    const conv = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
    return k.finish(k.run('Conv2D', { x: padded, filter: swapped }, conv));
  };
}

let registered = false;

/**
 * Makes Conv2D layers trainable, and fast, on the wasm backend: adds the missing filter-gradient kernel and routes
 * stride-1 input gradients through XNNPACK. Idempotent; other backends are untouched.
 */
export function registerWasmConvGradients(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2dBackpropFilter,
    });
  }
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (original) {
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ ...original, kernelFunc: conv2dBackpropInput(original.kernelFunc) });
  }
}
