/**
 * `reflex/testing`: the fakes and simulators Reflex's own tests use, for users' tests: a
 * scriptable serial bus, GPIO and PWM fakes, a fake bridge device on the serial fake, the
 * firmware's host build on a pseudo-terminal, and a simulated device clock. The hardware
 * interfaces they implement are exported with them, so a test can type its own doubles.
 */
export { FakeSerialBus, FakeSerialPort } from '../hal/serial-fake.js';
export type { SerialOpener, SerialOptions, SerialPortLike } from '../hal/serial.js';
export { FakeGpio, type FakeGpioWrite } from '../hal/gpio-fake.js';
export type { Edge, EdgeClock, EdgeListener, GpioInputLine, GpioOutputLine, GpioProvider, Level } from '../hal/gpio.js';
export { FakePwm, type FakePwmOp, type FakePwmState } from '../hal/pwm-fake.js';
export type { PwmChannel, PwmProvider, PwmRef } from '../hal/pwm.js';
export { FakeBridgeDevice, type FakeBridgeDeviceOptions, type FakeReply } from '../testing/bridge-fake-device.js';
export {
  firmwareBinaryPath,
  SimFirmwareCodes,
  startSimFirmware,
  type SimFirmware,
  type SimFirmwareExit,
  type SimFirmwareOptions,
} from '../devices/sim/firmware.js';
export { simulateClock, type SimClockOptions, type SimEvent, type SimFrame, type SimPing } from '../testing/clock-sim.js';
export { convergenceSeconds, parseTruth, scoreAgainstTruth, type MappedBlock, type SyncScore, type TruthFrame } from '../testing/sim-truth.js';
