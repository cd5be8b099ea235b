/**
 * Strict decoding of one control request frame. A request that could be read two ways
 * (a repeated map key, bytes after the map, indefinite lengths, tags, undefined, non-text
 * keys, over-long integer encodings, invalid UTF-8) is refused before any handler sees it:
 * a lenient decoder keeps the last of two `cmd` keys, so `{cmd: "status", cmd: "release"}`
 * would look harmless to a reviewer and release a latched e-stop.
 *
 * The rules are enforced by cborg's strict decoder options; this file adds only what cborg
 * has no option for (a nesting limit before its recursion, fatal UTF-8) and turns the result
 * into plain objects.
 */
import { decode, Tokenizer, Type, type DecodeOptions } from 'cborg';
import type { ControlError } from './control-protocol.js';

/** Deepest nesting a request may have (the request map itself is depth 1). */
export const MAX_REQUEST_DEPTH = 10;

/** What a refused frame is answered with. Codes are stable; messages may gain detail. */
export const STRICT_CODES = {
  /** Not one well-formed, plainly encoded CBOR data item. */
  malformed: 'E_MALFORMED',
  /** A map (at any depth) repeats a key. */
  duplicateKey: 'E_DUPLICATE_KEY',
} as const;

export type StrictDecodeResult = { ok: true; value: unknown } | { ok: false; error: ControlError };

const OPTIONS: DecodeOptions = {
  strict: true,
  rejectDuplicateMapKeys: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: false,
  // Plain objects: cborg refuses non-text keys itself in this mode.
};

const CBORG_PREFIX = /^CBOR decode error:\s*/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Thrown by the guard below; its message goes into the reply. */
class StrictError extends Error {}

/**
 * cborg's tokenizer, watched: nesting depth is counted before cborg recurses into a
 * container (a 64 KiB frame of nested arrays would otherwise recurse 65,536 deep); a text
 * string that decoded with replacement characters is checked for invalid UTF-8; byte strings
 * are refused; and so is a "__proto__" key, which cborg would assign to the object's
 * prototype (and so never see repeated).
 */
class GuardedTokenizer {
  readonly #inner: Tokenizer;
  readonly #data: Uint8Array;
  /** Items still expected by each open container, innermost last. */
  readonly #open: number[] = [];
  /** Whether each open container is a map (its items alternate key, value). */
  readonly #isMap: boolean[] = [];

  constructor(data: Uint8Array) {
    this.#data = data;
    this.#inner = new Tokenizer(data, OPTIONS);
  }

  done(): boolean {
    return this.#inner.done();
  }

  pos(): number {
    return this.#inner.pos();
  }

  next(): ReturnType<Tokenizer['next']> {
    const start = this.#inner.pos();
    const tok = this.#inner.next();
    const open = this.#open;
    const depth = open.length;
    // A map's remaining count is even exactly when a key comes next.
    const isKey = depth > 0 && this.#isMap[depth - 1]! && open[depth - 1]! % 2 === 0;
    if (depth > 0) open[depth - 1]!--;
    const t = tok.type;
    if (Type.equals(t, Type.string)) {
      const text = tok.value as string;
      if (isKey && text === '__proto__') throw new StrictError('the map key "__proto__" is not accepted');
      if (text.includes('\uFFFD')) {
        const minor = this.#data[start]! & 31;
        const header = minor < 24 ? 1 : 1 + (1 << (minor - 24));
        try {
          utf8.decode(this.#data.subarray(start + header, this.#inner.pos()));
        } catch {
          throw new StrictError('a text string is not valid UTF-8');
        }
      }
    } else if (Type.equals(t, Type.bytes)) {
      throw new StrictError('byte strings are not accepted (send text, numbers, booleans, null, lists and maps)');
    }
    const isMap = Type.equals(t, Type.map);
    const items = isMap ? 2 * (tok.value as number) : Type.equals(t, Type.array) ? (tok.value as number) : Type.equals(t, Type.tag) ? 1 : 0;
    if (items > 0) {
      if (depth + 1 > MAX_REQUEST_DEPTH) throw new StrictError(`nested deeper than ${MAX_REQUEST_DEPTH} levels`);
      open.push(items);
      this.#isMap.push(isMap);
    }
    while (open.length > 0 && open[open.length - 1] === 0) {
      open.pop();
      this.#isMap.pop();
    }
    return tok;
  }
}

function refuse(message: string): StrictDecodeResult {
  return { ok: false, error: { code: STRICT_CODES.malformed, message } };
}

/**
 * Decode one request frame strictly. Never throws: a refusal comes back as the error the
 * reply carries (E_DUPLICATE_KEY for a repeated key, E_MALFORMED for everything else).
 */
export function decodeStrict(bytes: Uint8Array): StrictDecodeResult {
  try {
    return { ok: true, value: decode(bytes, { ...OPTIONS, tokenizer: new GuardedTokenizer(bytes) }) as unknown };
  } catch (err) {
    if (err instanceof StrictError) return refuse(`request is not plain CBOR: ${err.message}`);
    const reason = err instanceof Error ? err.message.replace(CBORG_PREFIX, '') : String(err);
    if (/repeat map key/.test(reason)) {
      return { ok: false, error: { code: STRICT_CODES.duplicateKey, message: `request refused: a map repeats a key (${reason}); send each key once` } };
    }
    if (/non-string keys/.test(reason)) return refuse('request is not plain CBOR: map keys must be text');
    return refuse(`request is not one plain, definite-length CBOR item: ${reason}`);
  }
}
