/** Error codes of the hardware interfaces and their fakes (docs/errors.md, "hal"). */
export const GpioCodes = {
  /** A line was used after close(). */
  closed: 'E_GPIO_CLOSED',
  /** The GPIO line could not be opened through sysfs (onoff). */
  open: 'E_GPIO_OPEN',
  /** A fake line is already open. */
  busy: 'E_GPIO_BUSY',
  /** No GPIO chip has the label or controller device name the board gives. */
  chipNotFound: 'E_GPIO_CHIP_NOT_FOUND',
  /** Several GPIO chips match the board's chip by label or device name: refused, never guessed. */
  chipAmbiguous: 'E_GPIO_CHIP_AMBIGUOUS',
  /** The line number is beyond the chip's lines. */
  lineRange: 'E_GPIO_LINE_RANGE',
  /** A sysfs GPIO file holds something other than expected. */
  sysfs: 'E_GPIO_SYSFS',
  /** No sysfs GPIO interface on this kernel (onoff backend). */
  noSysfs: 'E_GPIO_NO_SYSFS',
  /** A libgpiod helper (gpioset, gpioget, gpiomon) failed or printed something unexpected. */
  helper: 'E_GPIO_HELPER',
  /** The libgpiod tools are older than version 2. */
  chardevVersion: 'E_GPIO_CHARDEV_VERSION',
} as const;

export const PwmCodes = {
  /** No pwmchip with the name or label the board gives. */
  chipNotFound: 'E_PWM_CHIP_NOT_FOUND',
  /** The PWM channel is beyond the chip's channels. */
  channelRange: 'E_PWM_CHANNEL_RANGE',
  /** Exporting the PWM channel through sysfs failed. */
  export: 'E_PWM_EXPORT',
  /** Writing a sysfs PWM attribute failed. */
  write: 'E_PWM_WRITE',
  /** Period and duty disagree (duty above period). */
  range: 'E_PWM_RANGE',
  /** enable() before any period was set. */
  noPeriod: 'E_PWM_NO_PERIOD',
  /** A channel was used after close(). */
  closed: 'E_PWM_CLOSED',
  /** A fake PWM channel is already open. */
  busy: 'E_PWM_BUSY',
} as const;

export const FakeCodes = {
  /** A test drove a fake (serial port, PWM) that the code under test never opened. */
  notOpen: 'E_FAKE_NOT_OPEN',
} as const;

export const SpiCodes = {
  /** The SPI backend package (spi-device) is not installed: the ads1299 source cannot open the bus. */
  unavailable: 'E_SPI_UNAVAILABLE',
  /** Opening or transferring on the SPI device failed (the message is the system's), or a `fake:` device is unknown. */
  io: 'E_SPI_IO',
} as const;
