/**
 * `reflex doctor`: checks that a host is set up for a board. Every check is a pure function of
 * a root directory (the live system at "/", a fake tree in tests, a mounted SD card image) and
 * of facts about the process and the installation, so a test builds a fake host and the same
 * code runs on a Pi.
 */
import type { BoardDef } from '../boards/types.js';
import type { HostTree } from './tree.js';

/** `ok` passes; `warn` passes but is worth fixing; `FAIL` makes `reflex doctor` exit 1. */
export type DoctorStatus = 'ok' | 'warn' | 'FAIL';

export interface CheckResult {
  /** Stable id, e.g. "serial", "group:gpio", "gpio:pinctrl-rp1" (tests and --json key on it). */
  id: string;
  status: DoctorStatus;
  /** What was found, one line. */
  found: string;
  /** Commands (or, where no command exists, the one step) that fix it; empty when ok. */
  fix: string[];
}

/** Facts about the process that would run Reflex; the CLI reads them from `process`, tests inject them. */
export interface ProcessFacts {
  /** Login name whose groups and file access are checked. */
  user: string;
  uid: number;
  /**
   * Group ids the running process holds (primary and supplementary). Undefined when checking
   * another user or an image: then only <root>/etc/group and <root>/etc/passwd count.
   */
  groups?: readonly number[];
  /** Node's `process.arch` naming: "arm64", "x64", "arm". */
  arch: string;
  /** `process.versions.node`, e.g. "22.11.0"; undefined when the Node that will run is not this one (an image). */
  nodeVersion?: string;
}

/** What the TensorFlow.js backends of this installation look like, probed without loading a model. */
export interface TfjsFacts {
  /** "absent": not installed; "loads": a child process required it; else why it failed to load. */
  node: 'absent' | 'loads' | 'skipped' | { error: string };
  /** @tensorflow/tfjs-backend-wasm resolves and its .wasm files are there. */
  wasm: boolean;
}

export interface DoctorContext {
  board: BoardDef;
  tree: HostTree;
  facts: ProcessFacts;
  tfjs: TfjsFacts;
  /** This installation's host firmware for the simulated board (firmware-bridge/build/reflex-bridge-host) and whether it is built. */
  simFirmware: { path: string; built: boolean };
}

/** One row of the check table: one concern, one or more result lines. */
export interface DoctorCheck {
  id: string;
  /** What it checks, for docs and `--help`. */
  title: string;
  run(ctx: DoctorContext): CheckResult[];
}

export function ok(id: string, found: string): CheckResult {
  return { id, status: 'ok', found, fix: [] };
}

export function warn(id: string, found: string, fix: string[] = []): CheckResult {
  return { id, status: 'warn', found, fix };
}

export function fail(id: string, found: string, fix: string[]): CheckResult {
  return { id, status: 'FAIL', found, fix };
}
