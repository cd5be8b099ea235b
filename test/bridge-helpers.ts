/** Shared by the bridge tests (not a test file itself). */
import type { Hello } from '../src/bridge/frames.js';

/**
 * A HELLO from some other protocol or firmware version: what varies is given, the rest is a
 * plain 8-channel 24-bit board at 1 kHz with one-sample blocks and no actuators.
 */
export function versionHello(v: Pick<Hello, 'protoMajor' | 'protoMinor' | 'fwMajor' | 'name'>): Hello {
  return {
    ...v,
    fwMinor: 0,
    fwPatch: 0,
    maxChannels: 8,
    adcBits: 24,
    nActuators: 0,
    bootId: 1,
    rateHz: 1000,
    channels: 8,
    blockSamples: 1,
    flags: 0,
  };
}
