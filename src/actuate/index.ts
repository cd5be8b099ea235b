/** Actuators, output mapping and the safety limits between the predictor and them: see docs/loop.md. */
export { type Actuator, clampToDef } from './actuator.js';
export { ActuatorSet, createActuator, createActuators, type ActuatorBackends } from './set.js';
export { BridgeActuator, BridgeBatch, type BridgeActuateEntry, type BridgeActuatorSink, type BridgeBatchOptions, toProtocolValue } from './bridge.js';
export { GpioActuator } from './gpio.js';
export { PwmActuator } from './pwm.js';
export { SimActuator } from './sim.js';
export { OutputMap, type OutputMapEntry } from './mapping.js';
export { SafetyLimiter, validateActuatorDef } from './safety.js';
export { type EstopTarget, watchEstopInput } from './estop.js';
export { type ActuationCounters, FdBridgeSink, FdFrameWriter, type FdWriteResult, MainSafeFrame } from './fd-bridge.js';
export { LOOP_REQ_ID_BASE, LOOP_REQ_ID_MAIN } from '../bridge/req-ids.js';
export { buildWorkerActuators, createFakeMirror, type FakeMirror, validateWorkerBackends, type WorkerActuatorBackends } from './worker-backends.js';
