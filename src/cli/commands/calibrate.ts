import { parseArgs } from 'node:util';
import { calibrate } from '../../calibrate/calibrate.js';
import { ConfigError } from '../../core/errors.js';
import { clientKeysFromFlags } from '../keys.js';
import { commandLogger, type CliContext } from '../context.js';
import { CoreCodes } from '../../core/codes.js';

export const summary = 'run a calibration protocol (rest, flex, extend, grip) with terminal prompts, recording to XDF';
export const usage = `usage: reflex calibrate [TELEMETRY_ENDPOINT --control ENDPOINT] [options]

Prompts the participant through a calibration program and records every stream, with a
marker at each phase's start and end (docs/calibrate.md). Without an endpoint a runtime is
started here on --board (no model: nothing moves); with one, a running runtime is recorded
over telemetry and marked over its control socket.

  --board ID           board to start a runtime on (default sim)
  --program FILE       calibration program, .json or .js (default programs/calibration.json; copy it to edit)
  --record FILE        XDF file to write (default calibration-<date>-<time>.xdf)
  --force              replace FILE if it exists
  --fast               every phase in milliseconds instead of seconds (tests, demos)
  --control ENDPOINT   the running runtime's control endpoint (with TELEMETRY_ENDPOINT)
  --server-key K       runtime public key, z85 or a .pub file (CURVE)
  --client-key-file F  this workstation's keypair file from \`reflex keygen\` (needed with --server-key)`;

function defaultFile(): string {
  const iso = new Date().toISOString();
  return `calibration-${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}.xdf`;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      board: { type: 'string' },
      program: { type: 'string' },
      record: { type: 'string' },
      force: { type: 'boolean' },
      fast: { type: 'boolean' },
      control: { type: 'string' },
      'server-key': { type: 'string' },
      'client-key-file': { type: 'string' },
    },
  });
  if (positionals.length > 1) throw new ConfigError(CoreCodes.usage, `give at most one telemetry endpoint, got ${positionals.join(' ')}`);
  const telemetry = positionals[0];
  if (telemetry !== undefined && values.control === undefined)
    throw new ConfigError(CoreCodes.usage, 'a running runtime is marked over its control socket: give --control ENDPOINT too');
  if (telemetry === undefined && values.control !== undefined) throw new ConfigError(CoreCodes.usage, '--control needs the telemetry endpoint before it');
  if (telemetry !== undefined && values.board !== undefined)
    throw new ConfigError(CoreCodes.usage, '--board starts a runtime here; leave it out when recording one running elsewhere');
  const serverKeys = values['server-key'] === undefined ? [] : [values['server-key']];
  const keys = clientKeysFromFlags([values.control ?? ''], serverKeys, values['client-key-file']);
  const log = commandLogger(ctx, 'text', 'calibrate');
  const r = await calibrate({
    ...(values.program !== undefined && { program: values.program }),
    fast: values.fast === true,
    record: values.record ?? defaultFile(),
    overwrite: values.force === true,
    ...(telemetry !== undefined
      ? {
          remote: {
            telemetry,
            control: values.control!,
            ...(keys.serverKeys[0] !== undefined && { serverKey: keys.serverKeys[0] }),
            ...(keys.keyPair && { keyPair: keys.keyPair }),
          },
        }
      : { local: { board: values.board ?? 'sim', guardProcess: true } }),
    print: (line) => ctx.stdout.write(line + '\n'),
    log,
    signal: ctx.signal,
  });
  const emg = r.recording.streams.filter((s) => s.topic === 'emg.raw').reduce((a, s) => a + s.samples, 0);
  ctx.stdout.write(`recorded ${r.marks} markers, ${r.segments.length} phases and ${emg} EMG samples to ${r.file}\n`);
  return 0;
}
