/**
 * Which family of board the host is, for fixes that differ between them: a Raspberry Pi enables
 * SPI and PWM in config.txt, a BeagleBone with config-pin, a Jetson with jetson-io.
 */
import type { BoardDef } from '../boards/types.js';
import type { HostTree } from './tree.js';

export type Platform = 'raspberrypi' | 'beaglebone' | 'jetson' | 'other';

/** The device tree's model string ("Raspberry Pi 5 Model B Rev 1.0"), without its trailing NUL. */
export function hostModel(tree: HostTree): string | undefined {
  const raw = tree.read('/proc/device-tree/model') ?? tree.read('/sys/firmware/devicetree/base/model');
  const model = raw?.replace(/\0/g, '').trim();
  return model ? model : undefined;
}

export function platformOf(board: BoardDef, tree: HostTree): Platform {
  const model = hostModel(tree) ?? '';
  if (/^rpi/.test(board.id) || model.startsWith('Raspberry Pi')) return 'raspberrypi';
  if (/beaglebone/i.test(board.id) || /beaglebone/i.test(model)) return 'beaglebone';
  if (/jetson/i.test(board.id) || /jetson|nvidia/i.test(model)) return 'jetson';
  return 'other';
}

/** The Pi's config.txt: /boot/firmware/ since Raspberry Pi OS bookworm, /boot/ before. */
export function configTxt(tree: HostTree): string {
  if (!tree.exists('/boot/firmware/config.txt') && tree.exists('/boot/config.txt')) return '/boot/config.txt';
  return '/boot/firmware/config.txt';
}

/** True when an uncommented line of config.txt is exactly `line` (dtparam=spi=on ...). */
export function configHas(tree: HostTree, line: string): boolean {
  const text = tree.read(configTxt(tree)) ?? '';
  return text.split('\n').some((l) => l.replace(/#.*/, '').trim() === line);
}

function appendConfig(tree: HostTree, line: string): string[] {
  const file = configTxt(tree);
  if (configHas(tree, line)) return [`sudo reboot  # ${file} already has ${line}: it applies at boot`];
  return [`echo '${line}' | sudo tee -a ${file}`, 'sudo reboot'];
}

export function enableSpiFix(platform: Platform, tree: HostTree): string[] {
  switch (platform) {
    case 'raspberrypi':
      return appendConfig(tree, 'dtparam=spi=on');
    case 'beaglebone':
      return ['config-pin p9.17 spi_cs && config-pin p9.18 spi && config-pin p9.21 spi && config-pin p9.22 spi_sclk'];
    case 'jetson':
      return ['sudo /opt/nvidia/jetson-io/jetson-io.py  # enable SPI1 on the 40-pin header', 'sudo reboot'];
    case 'other':
      return ["enable the SPI controller as the board file's description says, then check ls /dev/spidev*"];
  }
}

export function enablePwmFix(platform: Platform, tree: HostTree): string[] {
  switch (platform) {
    case 'raspberrypi':
      // The overlay's defaults are GPIO18 and GPIO19, the pins the shipped Pi boards use.
      return appendConfig(tree, 'dtoverlay=pwm-2chan');
    case 'beaglebone':
      return ['config-pin p9.14 pwm && config-pin p9.16 pwm'];
    case 'jetson':
      return ['sudo /opt/nvidia/jetson-io/jetson-io.py  # enable the PWM pins (15, 33)', 'sudo reboot'];
    case 'other':
      return ["enable the PWM controller as the board file's description says, then check readlink -f /sys/class/pwm/pwmchip*/device"];
  }
}
