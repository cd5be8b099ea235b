import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { LineRef } from '../boards/types.js';
import { Counters } from '../core/counters.js';
import { ReflexError } from '../core/errors.js';
import { Logger } from '../core/log.js';
import type { Edge, EdgeListener, GpioInputLine, GpioOutputLine, GpioProvider, Level } from './gpio.js';
import { listChardevChips, mergeGpiodetect, parseGpiodetect, pickChardevChip, type ChardevGpioChip } from './gpio-resolve.js';
import { GpioCodes } from './codes.js';

/** What the helper processes did; for diagnostics and for tests to wait on. */
export interface GpioHelperEvent {
  tool: 'gpioset' | 'gpiomon';
  /** ready: the tool printed its banner (the line is requested); exit: it ended. */
  event: 'ready' | 'exit';
  args: readonly string[];
  /** exit: code/signal and stderr. */
  detail?: string;
}

export type ChardevCounterKey = 'gpio_helper_failures' | 'gpiomon_unparsed';

export interface ChardevGpioOptions {
  /** Directory holding gpioset/gpioget/gpiomon/gpiodetect; default: found on PATH. */
  binDir?: string;
  /** Environment of the helper processes; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** sysfs root used first for label lookup; default "/sys". */
  sysRoot?: string;
  devRoot?: string;
  onHelper?: (e: GpioHelperEvent) => void;
  counters?: Counters<ChardevCounterKey>;
  logger?: Logger;
}

/**
 * GPIO for kernels without sysfs GPIO, through libgpiod v2's command-line tools (Debian
 * package `gpiod` >= 2, i.e. Debian 13 "trixie" or later; v1's tools take other arguments
 * and are refused at first use). Outputs are held by a running `gpioset`; inputs are
 * watched by a running `gpiomon` (both edges, so the cached level is always current) and
 * read once with `gpioget` before that. gpiomon prints each event's kernel timestamp (`%S`,
 * CLOCK_MONOTONIC by default, the clock monotonicMs() reads), which edge callbacks pass on, so
 * the pipe hop adds no error to the edge's time. Labels are resolved via sysfs when it has them,
 * else via `gpiodetect`.
 */
export class ChardevGpioProvider implements GpioProvider {
  readonly name = 'chardev';
  readonly #o: ChardevGpioOptions;
  readonly #counters: Counters<ChardevCounterKey>;
  readonly #log: Logger;
  #checked = false;

  constructor(opts: ChardevGpioOptions = {}) {
    this.#o = opts;
    this.#counters = opts.counters ?? new Counters<ChardevCounterKey>();
    this.#log = opts.logger ?? new Logger();
  }

  get counters(): Counters<ChardevCounterKey> {
    return this.#counters;
  }

  /** Path (or bare name, for PATH lookup) of one of the tools. */
  bin(tool: 'gpioset' | 'gpioget' | 'gpiomon' | 'gpiodetect'): string {
    return this.#o.binDir ? join(this.#o.binDir, tool) : tool;
  }

  /**
   * Which chip and offset `ref` (chip label or controller device name) is, as libgpiod's `-c`
   * and line arguments want them. Device names come from sysfs only; labels sysfs lacks
   * (no sysfs GPIO) come from `gpiodetect`, merged in so a reference matching one chip's
   * device and another's label is refused rather than resolved by whichever was looked at first.
   */
  resolve(ref: LineRef): { chip: ChardevGpioChip; offset: number } {
    this.#checkVersion();
    const fromSysfs = listChardevChips({ sysRoot: this.#o.sysRoot, devRoot: this.#o.devRoot });
    if (fromSysfs.length > 0 && fromSysfs.every((c) => c.label !== undefined)) return pickChardevChip(fromSysfs, ref, 'sysfs');
    const detected = parseGpiodetect(this.#run('gpiodetect', []), this.#o.devRoot);
    return pickChardevChip(mergeGpiodetect(fromSysfs, detected), ref, fromSysfs.length ? 'sysfs and gpiodetect output' : 'gpiodetect output');
  }

  output(ref: LineRef, initial: Level): GpioOutputLine {
    const { chip, offset } = this.resolve(ref);
    const base = ['--banner', '-c', chip.name, ...(ref.activeLow ? ['-l'] : [])];
    return new RespawnOutput(this, ref, base, offset, initial);
  }

  input(ref: LineRef, edge: Edge): GpioInputLine {
    const { chip, offset } = this.resolve(ref);
    const flags = ['-c', chip.name, ...(ref.activeLow ? ['-l'] : [])];
    const initial = parseGetValue(this.#run('gpioget', [...flags, String(offset)]), ref);
    return new MonitoredInput(this, ref, ['--banner', ...flags, '-e', 'both', '-F', '%o %e %S', String(offset)], offset, edge, initial);
  }

  /** @internal start a long-running helper and report its banner and exit. */
  start(tool: 'gpioset' | 'gpiomon', args: string[], onExit: (ok: boolean, detail: string) => void): ChildProcess {
    const child = spawn(this.bin(tool), args, { env: this.#o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let ended = false;
    const end = (ok: boolean, detail: string): void => {
      if (ended) return;
      ended = true;
      if (!ok) {
        this.#counters.inc('gpio_helper_failures');
        this.#log.limited('error', `gpio-${tool}`, `${tool} ${args.join(' ')}: ${detail}`);
      }
      this.#o.onHelper?.({ tool, event: 'exit', args, detail });
      onExit(ok, detail);
    };
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < 2000) stderr += s;
    });
    child.on('error', (err) => end(false, `${err.message}: install Debian package gpiod >= 2 or set binDir`));
    child.on('exit', (code, signal) => {
      const killed = signal === 'SIGTERM' && child.killed;
      end(killed, `${signal ? `killed by ${signal}` : `exited with code ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`);
    });
    return child;
  }

  /** @internal */
  ready(tool: 'gpioset' | 'gpiomon', args: string[]): void {
    this.#o.onHelper?.({ tool, event: 'ready', args });
  }

  /** @internal */
  countUnparsed(line: string): void {
    this.#counters.inc('gpiomon_unparsed');
    this.#log.limited('warn', 'gpiomon-unparsed', `gpiomon printed "${line}", expected "<offset> <1|2> <seconds>.<nanoseconds>"`);
  }

  #run(tool: 'gpioget' | 'gpiodetect', args: string[]): string {
    const r = spawnSync(this.bin(tool), args, { env: this.#o.env ?? process.env, encoding: 'utf8', timeout: 5000 });
    if (r.error || r.status !== 0) {
      this.#counters.inc('gpio_helper_failures');
      const why = r.error ? r.error.message : `exit code ${r.status}: ${(r.stderr ?? '').trim()}`;
      throw new ReflexError(GpioCodes.helper, `${this.bin(tool)} ${args.join(' ')} failed (${why}); the chardev backend needs Debian package gpiod >= 2`);
    }
    return r.stdout;
  }

  #checkVersion(): void {
    if (this.#checked) return;
    const out = this.#run('gpiodetect', ['--version']);
    const m = /v(\d+)\.(\d+)/.exec(out);
    if (!m || Number(m[1]) < 2) {
      throw new ReflexError(
        GpioCodes.chardevVersion,
        `${this.bin('gpiodetect')} reports "${out.split('\n')[0]?.trim()}": ` +
          'the chardev backend needs libgpiod >= 2 (Debian package gpiod >= 2, Debian 13 or later), or use the onoff backend',
      );
    }
    this.#checked = true;
  }
}

function parseGetValue(out: string, ref: LineRef): Level {
  const t = out.trim();
  const m = /=(active|inactive)$/.exec(t) ?? /^([01])$/.exec(t);
  if (!m) throw new ReflexError(GpioCodes.helper, `gpioget printed "${t}" for ${ref.chip}:${ref.line}, expected "<line>=active|inactive"`);
  return m[1] === 'active' || m[1] === '1' ? 1 : 0;
}

/** Lines of a child's stdout, one callback per complete line. */
function onLines(child: ChildProcess, cb: (line: string) => void): void {
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      cb(buf.slice(0, i).trim());
      buf = buf.slice(i + 1);
    }
  });
}

/**
 * An output held by one gpioset per value: a change stops the running gpioset once it has
 * the line (its banner) and starts one with the new value. (gpioset's --interactive mode
 * would avoid the respawn, but it is an optional build that Debian's gpiod does not have.) Writes return at once and are
 * applied in order, intermediate values coalesced; a failed helper makes the next write throw.
 */
class RespawnOutput implements GpioOutputLine {
  readonly ref: LineRef;
  readonly #p: ChardevGpioProvider;
  readonly #base: string[];
  readonly #offset: number;
  #want: Level;
  #child: ChildProcess | undefined;
  #childValue: Level | undefined;
  #childReady = false;
  #error: string | undefined;
  #closed = false;

  constructor(p: ChardevGpioProvider, ref: LineRef, base: string[], offset: number, initial: Level) {
    this.#p = p;
    this.ref = ref;
    this.#base = base;
    this.#offset = offset;
    this.#want = initial;
    this.#spawn();
  }

  write(value: Level): void {
    if (this.#closed) throw new ReflexError(GpioCodes.closed, `write to closed GPIO ${this.ref.chip}:${this.ref.line}: open it again`);
    if (this.#error) throw new ReflexError(GpioCodes.helper, `GPIO ${this.ref.chip}:${this.ref.line}: gpioset failed: ${this.#error}`);
    this.#want = value;
    this.#advance();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#child?.kill('SIGTERM');
  }

  #advance(): void {
    if (this.#closed || this.#error || !this.#child) return;
    if (this.#childReady && this.#childValue !== this.#want) this.#child.kill('SIGTERM');
  }

  #spawn(): void {
    const value = this.#want;
    const args = [...this.#base, `${this.#offset}=${value}`];
    const child = this.#p.start('gpioset', args, (ok, detail) => {
      this.#child = undefined;
      if (!ok) {
        this.#error = detail;
        return;
      }
      if (!this.#closed) this.#spawn();
    });
    this.#child = child;
    this.#childValue = value;
    this.#childReady = false;
    onLines(child, () => {
      if (this.#childReady) return;
      this.#childReady = true;
      this.#p.ready('gpioset', args);
      this.#advance();
    });
  }
}

/** An input watched by gpiomon on both edges; read() returns the level it last reported. */
class MonitoredInput implements GpioInputLine {
  readonly ref: LineRef;
  readonly edgeClock = 'kernel';
  readonly #child: ChildProcess;
  readonly #edge: Edge;
  #level: Level;
  #listeners: EdgeListener[] = [];
  #error: string | undefined;
  #closed = false;

  constructor(p: ChardevGpioProvider, ref: LineRef, args: string[], offset: number, edge: Edge, initial: Level) {
    this.ref = ref;
    this.#edge = edge;
    this.#level = initial;
    this.#child = p.start('gpiomon', args, (ok, detail) => {
      if (!ok) this.#error = detail;
      else if (!this.#closed) this.#error = 'gpiomon exited';
    });
    let ready = false;
    onLines(this.#child, (line) => {
      // "<offset> <1 rising|2 falling> <s>.<ns>": the kernel's timestamp_ns, printed as seconds.
      const m = /^(\d+) ([12]) (\d+)\.(\d{9})$/.exec(line);
      if (m && Number(m[1]) === offset) {
        this.#onEdge(m[2] === '1' ? 1 : 0, Number(m[3]) * 1000 + Number(m[4]) / 1e6);
      } else if (!ready && line.startsWith('Monitoring')) {
        ready = true;
        p.ready('gpiomon', args);
      } else {
        p.countUnparsed(line);
      }
    });
  }

  read(): Level {
    if (this.#closed) throw new ReflexError(GpioCodes.closed, `read of closed GPIO ${this.ref.chip}:${this.ref.line}: open it again`);
    // A dead monitor means the cached level may be stale: never return it as current.
    if (this.#error) throw new ReflexError(GpioCodes.helper, `GPIO ${this.ref.chip}:${this.ref.line}: gpiomon failed: ${this.#error}`);
    return this.#level;
  }

  watch(listener: EdgeListener): void {
    this.#listeners.push(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#child.kill('SIGTERM');
  }

  #onEdge(level: Level, timeMs: number): void {
    this.#level = level;
    if (this.#edge === 'both' || (this.#edge === 'rising') === (level === 1)) {
      for (const l of this.#listeners) l(level, timeMs);
    }
  }
}
