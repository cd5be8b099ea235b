import type { ActuatorDef } from '../boards/types.js';
import { ConfigError } from '../core/errors.js';
import { ActuateCodes } from './codes.js';

/**
 * Which predictor output drives which actuator, as a linear map into the actuator's
 * unit: target = output * scale + offset. Part of the run configuration, checked
 * against the board's actuators and the model's output names before the loop starts.
 * Actuators without an entry are held at their safe value.
 */
export interface OutputMapEntry {
  actuator: string;
  output: string;
  scale?: number;
  offset?: number;
}

export class OutputMap {
  readonly entries: readonly OutputMapEntry[];
  /** Per actuator: index into the outputs, or -1 when unmapped. */
  readonly outputIndex: Int32Array;
  readonly scale: Float64Array;
  readonly offset: Float64Array;
  readonly safe: Float64Array;

  constructor(entries: readonly OutputMapEntry[], actuators: readonly ActuatorDef[], outputNames: readonly string[]) {
    const n = actuators.length;
    this.outputIndex = new Int32Array(n).fill(-1);
    this.scale = new Float64Array(n).fill(1);
    this.offset = new Float64Array(n);
    this.safe = Float64Array.from(actuators, (a) => a.safe);
    entries.forEach((e, k) => {
      const where = `mapping[${k}]`;
      const ai = actuators.findIndex((a) => a.name === e.actuator);
      if (ai < 0) {
        throw new ConfigError(
          ActuateCodes.mapActuator,
          `${where}.actuator "${e.actuator}" is not on this board; actuators: ${actuators.map((a) => a.name).join(', ') || '(none)'}`,
        );
      }
      const oi = outputNames.indexOf(e.output);
      if (oi < 0) {
        throw new ConfigError(ActuateCodes.mapOutput, `${where}.output "${e.output}" is not a model output; outputs: ${outputNames.join(', ') || '(none)'}`);
      }
      if (this.outputIndex[ai] !== -1) {
        throw new ConfigError(ActuateCodes.mapDuplicate, `${where}: actuator "${e.actuator}" is mapped twice; keep one entry per actuator`);
      }
      const scale = e.scale ?? 1;
      const offset = e.offset ?? 0;
      if (!Number.isFinite(scale) || !Number.isFinite(offset)) {
        throw new ConfigError(ActuateCodes.mapLinear, `${where}: scale and offset must be finite numbers (got ${scale}, ${offset})`);
      }
      this.outputIndex[ai] = oi;
      this.scale[ai] = scale;
      this.offset[ai] = offset;
    });
    this.entries = entries.map((e) => ({ ...e }));
  }

  /** outputs (model units) -> targets (actuator units). NaN outputs stay NaN so the limiter sees them. */
  map(outputs: ArrayLike<number>, targets: Float64Array): void {
    const n = this.outputIndex.length;
    for (let i = 0; i < n; i++) {
      const oi = this.outputIndex[i]!;
      targets[i] = oi < 0 ? this.safe[i]! : outputs[oi]! * this.scale[i]! + this.offset[i]!;
    }
  }
}
