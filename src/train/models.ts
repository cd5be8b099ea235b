/**
 * The two architectures `reflex train` offers, both made only of layers the compiled kernel
 * runs (predict/compile.ts), with every weight initialised from the seed.
 */
import * as tf from '@tensorflow/tfjs';

export type Arch = 'mlp' | 'cnn';
export const ARCHS: readonly Arch[] = ['mlp', 'cnn'];

export function buildModel(arch: Arch, samples: number, channels: number, outputs: number, seed: number): tf.Sequential {
  let k = 0;
  // One seed per weight tensor, derived from the run's seed: the same seed gives the same start.
  const init = (): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed: seed * 1000 + ++k });
  const layers: tf.layers.Layer[] =
    arch === 'mlp'
      ? [
          tf.layers.flatten({ inputShape: [samples, channels] }),
          tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init() }),
          tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init() }),
          tf.layers.dense({ units: outputs, kernelInitializer: init() }),
        ]
      : [
          // One convolution over time mixing the channels, then a dense head. A second
          // convolution would cost ~6x the training time on the cpu backend (its input gradient).
          tf.layers.conv1d({ inputShape: [samples, channels], filters: 8, kernelSize: Math.min(5, samples), activation: 'relu', kernelInitializer: init() }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init() }),
          tf.layers.dense({ units: outputs, kernelInitializer: init() }),
        ];
  return tf.sequential({ layers });
}
