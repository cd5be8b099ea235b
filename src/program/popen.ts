import { spawn } from 'node:child_process';
import { ProgramCodes, ProgramError } from './errors.js';
import type { Json } from './types.js';

/** Output kept per stream; beyond it the text is cut and marked, so a chatty command cannot eat memory. */
const MAX_OUTPUT = 1 << 20;

export interface CommandResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  [key: string]: Json;
}

/** Run `cmd` (no shell) and collect its exit status and output (UTF-8). */
export function runCommand(
  cmd: readonly string[],
  opts: { cwd?: string | undefined; timeoutMs?: number | undefined; check: boolean; signal: AbortSignal; where: string },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (cmd.length === 0)
      return reject(new ProgramError(ProgramCodes.popen, opts.where, 'cmd is empty; give the program and its arguments, e.g. ["ls", "-l"]'));
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal, killSignal: 'SIGTERM' });
    const out = collector();
    const err = collector();
    child.stdout.on('data', out.add);
    child.stderr.on('data', err.add);
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
          }, opts.timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.name === 'AbortError')
        return reject(new ProgramError(ProgramCodes.aborted, opts.where, `${cmd[0]} was stopped because the program was cancelled`, { cause: e }));
      reject(
        new ProgramError(ProgramCodes.popen, opts.where, `could not run ${JSON.stringify(cmd[0])}: ${e.message} (is it installed and on PATH?)`, { cause: e }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: CommandResult = { code, signal, stdout: out.text(), stderr: err.text() };
      if (timedOut) return reject(new ProgramError(ProgramCodes.popen, opts.where, `${cmd[0]} timed out after ${opts.timeoutMs} ms and was killed`));
      if (opts.check && code !== 0)
        return reject(new ProgramError(ProgramCodes.popen, opts.where, `${cmd[0]} exited with ${code ?? signal}: ${result.stderr.trim().slice(0, 200)}`));
      resolve(result);
    });
  });
}

function collector(): { add: (chunk: Buffer) => void; text: () => string } {
  const parts: Buffer[] = [];
  let size = 0;
  let cut = false;
  return {
    add(chunk) {
      if (size >= MAX_OUTPUT) {
        cut = true;
        return;
      }
      parts.push(chunk);
      size += chunk.length;
    },
    text() {
      const s = Buffer.concat(parts).subarray(0, MAX_OUTPUT).toString('utf8');
      return cut || size > MAX_OUTPUT ? s + '\n[output cut at 1 MiB]' : s;
    },
  };
}
