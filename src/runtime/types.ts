/**
 * Types the runtime's parts share. runtime.ts wires the parts; each takes only what it uses,
 * so none of them imports runtime.ts.
 */

/** 'starting': checks and binds; 'connecting': waiting for the source's first stream; then the loop starts. */
export type RuntimeState = 'starting' | 'connecting' | 'running' | 'paused' | 'stopping' | 'stopped';

/** Logs a runtime event and publishes it on the `event` topic. */
export type RunEvent = (kind: string, level: 'info' | 'warn' | 'error', message: string, data?: Record<string, string | number | boolean>) => void;
