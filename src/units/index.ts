/** Stateful chunk processors: see docs/units.md. */
export type { InputShape, MutableBlock, ShapeProblem, Unit, UnitKind, UnitSpec, WindowBlock } from './types.js';
export { isWindowBlock } from './types.js';
export { compose, Pipeline, toSpec, type PipelineSettings } from './compose.js';
export { buildPipeline, buildUnit, defaultUnitKinds, UnitRegistry, type BuildOptions } from './registry.js';
export { Bandpass, Highpass, Lowpass, Notch, notchFrequencies, type BandpassSettings, type NotchSettings, type PassSettings } from './filters.js';
export { Rectify, type RectifySettings } from './rectify.js';
export { Rms, type RmsSettings } from './rms.js';
export { Envelope, type EnvelopeSettings } from './envelope.js';
export { MovingWindow, type WindowSettings } from './window.js';
export { Decimate, type DecimateSettings } from './decimate.js';
export { Normalize, type NormalizeSettings } from './normalize.js';
export { butterBandpass, butterHighpass, butterLowpass, cascade, notch, sosGain, type Sos } from './design.js';
export { E_UNIT_SETTING, SettingsReader } from './settings.js';
export { BlockBuffer, ShapeGuard } from './block-buffer.js';
export { belowNyquist, E_UNIT_SHAPE, perChannel } from './shape.js';
export { runChunks, sliceBlock, splitBlock, type Collected } from './offline.js';
