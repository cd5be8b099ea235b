/** `reflex/units`: stateful chunk processors and pipelines (docs/units.md). */
export type { InputShape, MutableBlock, ShapeProblem, Unit, UnitKind, UnitSpec, WindowBlock } from '../units/types.js';
export { isWindowBlock } from '../units/types.js';
export { compose, Pipeline, toSpec, type PipelineSettings } from '../units/compose.js';
export { buildPipeline, buildUnit, defaultUnitKinds, UnitRegistry, type BuildOptions } from '../units/registry.js';
export { Bandpass, Highpass, Lowpass, Notch, notchFrequencies, type BandpassSettings, type NotchSettings, type PassSettings } from '../units/filters.js';
export { Rectify, type RectifySettings } from '../units/rectify.js';
export { Rms, type RmsSettings } from '../units/rms.js';
export { Envelope, type EnvelopeSettings } from '../units/envelope.js';
export { MovingWindow, type WindowSettings } from '../units/window.js';
export { Decimate, type DecimateSettings } from '../units/decimate.js';
export { Normalize, type NormalizeSettings } from '../units/normalize.js';
export { butterBandpass, butterHighpass, butterLowpass, cascade, notch, sosGain, type Sos } from '../units/design.js';
// What a custom unit needs to check its settings and input shape the way the built-in ones do.
export { E_UNIT_SETTING, SettingsReader } from '../units/settings.js';
export { BlockBuffer, ShapeGuard } from '../units/block-buffer.js';
export { belowNyquist, E_UNIT_SHAPE, perChannel } from '../units/shape.js';
export { runChunks, sliceBlock, splitBlock, type Collected } from '../units/offline.js';
export { createBlock, defaultChannelNames, type SampleBlock } from '../core/block.js';
