/** BridgeLinkOptions with their defaults filled in, and the real timers (link.ts). */
import type { BridgeLinkOptions, LinkTimers } from './link-types.js';

/** Every option but the injected services (logger, timers, clock), defaults applied. */
export type ResolvedLinkOptions = Required<Omit<BridgeLinkOptions, 'logger' | 'timers' | 'now'>>;

export const defaultTimers: LinkTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The defaults documented on BridgeLinkOptions. */
export function resolveLinkOptions(opts: BridgeLinkOptions): ResolvedLinkOptions {
  return {
    open: opts.open,
    path: opts.path,
    baudRate: opts.baudRate ?? 115200,
    rate: opts.rate ?? 0,
    channels: opts.channels ?? 0,
    block: opts.block ?? 0,
    helloTimeoutMs: opts.helloTimeoutMs ?? 1000,
    helloAttempts: opts.helloAttempts ?? 3,
    commandTimeoutMs: opts.commandTimeoutMs ?? 1000,
    pingIntervalMs: opts.pingIntervalMs ?? 200,
    stallMs: opts.stallMs ?? 1000,
    stopAckMs: opts.stopAckMs ?? 250,
    backoffMinMs: opts.backoffMinMs ?? 100,
    backoffMaxMs: opts.backoffMaxMs ?? 5000,
    healthyMs: opts.healthyMs ?? 5000,
  };
}
