import type { ProgramNode } from './types.js';

/**
 * Run state, one frame per started node, mirroring the program tree; plain JSON so a snapshot
 * is just { program, frame, registers }. `null` children are not started yet.
 */
export type Frame =
  /** CALL, POPEN, SPAWN: `id` is the in-flight job (null: not started or finished); `done` once its result landed. */
  | { k: 'ext'; id: number | null; done: boolean }
  /** WAIT: clock deadline once started. */
  | { k: 'wait'; until: number | null }
  /** PRINT, SET: run in one step. */
  | { k: 'leaf' }
  | { k: 'seq'; i: number; child: Frame | null }
  /** REPEAT, BUFFER_REPEAT: `total` resolved when started. */
  | { k: 'rep'; n: number; total: number | null; child: Frame | null }
  | { k: 'loop'; n: number; child: Frame | null }
  /** CHOOSE: `branch` is the case key, or null for the default, once chosen. */
  | { k: 'choose'; chosen: boolean; branch: string | null; child: Frame | null }
  | { k: 'weave'; children: Array<Frame | null>; done: boolean[]; next: number };

export function startFrame(node: ProgramNode): Frame {
  switch (node.op) {
    case 'CALL':
    case 'POPEN':
    case 'SPAWN':
      return { k: 'ext', id: null, done: false };
    case 'WAIT':
      return { k: 'wait', until: null };
    case 'PRINT':
    case 'SET':
      return { k: 'leaf' };
    case 'SEQ':
      return { k: 'seq', i: 0, child: null };
    case 'REPEAT':
    case 'BUFFER_REPEAT':
      return { k: 'rep', n: 0, total: null, child: null };
    case 'LOOP':
      return { k: 'loop', n: 0, child: null };
    case 'CHOOSE':
      return { k: 'choose', chosen: false, branch: null, child: null };
    case 'WEAVE':
      return { k: 'weave', children: node.body.map(() => null), done: node.body.map(() => false), next: 0 };
  }
}

/** Every frame under `frame`, depth first (for snapshot checks and clock shifts). */
export function* walkFrames(frame: Frame | null): Generator<Frame> {
  if (frame === null) return;
  yield frame;
  if ('child' in frame) yield* walkFrames(frame.child);
  if (frame.k === 'weave') for (const c of frame.children) yield* walkFrames(c);
}
