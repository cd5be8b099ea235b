/**
 * The settings of the run that made a recording, as replay needs them: the model directory, the
 * actuators' limits, the output map and the loop period. They come from the metadata the recorder
 * wrote (the file header's and each stream's `<desc><reflex>`), and each can be overridden.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import type { OutputMapEntry } from '../actuate/mapping.js';
import type { ActuatorDef, BoardDef } from '../boards/types.js';
import { loadBoard } from '../boards/load.js';
import { ConfigError } from '../core/errors.js';
import type { Recording } from '../record/types.js';
import { TrainCodes } from '../train/codes.js';

export interface RunFacts {
  /** Model directory the run loaded. */
  modelDir: string;
  actuators: ActuatorDef[];
  mapping: OutputMapEntry[];
  /** Loop period, ms (1000 / loop.rateHz). */
  periodMs: number;
  /** The predictor path the live loop ran ("compiled" or "tfjs"), when recorded. */
  predictorPath: 'compiled' | 'tfjs' | null;
}

export interface RunFactsOverrides {
  modelDir?: string;
  actuators?: ActuatorDef[];
  mapping?: OutputMapEntry[];
  periodMs?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every metadata object in the file: the header's Reflex JSON first, then each stream's. */
function metas(rec: Recording): Obj[] {
  const out: Obj[] = [];
  const h = rec.header.reflex;
  if (isObj(h)) out.push(h);
  else if (typeof h === 'string') {
    try {
      const v: unknown = JSON.parse(h);
      if (isObj(v)) out.push(v);
    } catch {
      // A header that is not JSON carries nothing for replay; the streams' metadata still may.
    }
  }
  for (const s of rec.streams) out.push(s.meta);
  return out;
}

function first<T>(rec: Recording, pick: (m: Obj) => T | undefined): T | undefined {
  for (const m of metas(rec)) {
    const v = pick(m);
    if (v !== undefined) return v;
  }
  return undefined;
}

const config = (m: Obj): Obj | undefined => (isObj(m.run_config) ? m.run_config : isObj(m.config) ? m.config : isObj(m.run) ? m.run : undefined);

function boardDef(rec: Recording): BoardDef | undefined {
  const b = first(rec, (m) => (isObj(m.board_def) ? m.board_def : isObj(m.boardDef) ? m.boardDef : isObj(m.board) ? m.board : undefined));
  if (b && Array.isArray(b.actuators)) return b as unknown as BoardDef;
  const id = first(rec, (m) => (typeof m.board === 'string' && m.board !== '' ? m.board : undefined));
  if (id === undefined) return undefined;
  try {
    return loadBoard(id);
  } catch {
    // The board may be a file on the machine that recorded; the caller asks for it by name.
    return undefined;
  }
}

export function runFacts(rec: Recording, o: RunFactsOverrides = {}): RunFacts {
  const missing = (what: string, fix: string): never => {
    throw new ConfigError(TrainCodes.runFacts, `${rec.path}: the recording does not say ${what}; ${fix}`);
  };
  const cfg = first(rec, config);
  let modelDir = o.modelDir;
  if (modelDir === undefined) {
    const m = first(rec, (x) => {
      const c = config(x);
      return typeof c?.model === 'string' ? c.model : typeof x.model_dir === 'string' ? x.model_dir : undefined;
    });
    if (m === undefined) missing('which model the run used', 'pass --model DIR');
    modelDir = isAbsolute(m!) ? m! : resolve(dirname(rec.path), m!);
    if (!existsSync(modelDir)) missing(`a model directory that exists here (it names ${m})`, 'pass --model DIR');
  }
  const actuators = o.actuators ?? boardDef(rec)?.actuators;
  if (!actuators) missing("the board's actuators", 'record with a Reflex that writes the board definition');
  const mapping = o.mapping ?? (Array.isArray(cfg?.outputs) ? (cfg.outputs as OutputMapEntry[]) : undefined);
  if (!mapping) missing('the output map (outputs[])', 'record with a Reflex that writes the run configuration');
  let periodMs = o.periodMs;
  if (periodMs === undefined) {
    const loop = isObj(cfg?.loop) ? cfg.loop : undefined;
    if (typeof loop?.rateHz === 'number' && loop.rateHz > 0) periodMs = 1000 / loop.rateHz;
  }
  if (periodMs === undefined) missing('the loop rate (loop.rateHz)', 'record with a Reflex that writes the run configuration');
  const path = first(rec, (m) => {
    const p = isObj(m.predictor) ? m.predictor.path : m.predictor_path;
    return p === 'compiled' || p === 'tfjs' ? p : undefined;
  });
  // As the loop is set up (runtime/loop-setup.ts): entries for actuators the board lacks are dropped.
  const live = mapping!.filter((m) => actuators!.some((a) => a.name === m.actuator)).map((e) => ({ ...e }));
  return { modelDir: modelDir, actuators: actuators!.map((a) => ({ ...a })), mapping: live, periodMs: periodMs!, predictorPath: path ?? null };
}
