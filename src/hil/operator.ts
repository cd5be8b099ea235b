/**
 * The person at the bench, for the steps a real board cannot do alone (pull the cable,
 * press the e-stop). Not interactive (--yes, no terminal, CI): those steps are skipped with
 * the reason, never faked.
 */
import { createInterface } from 'node:readline/promises';

export interface Operator {
  readonly interactive: boolean;
  /** Shows `instruction` and resolves when the person confirms (Enter). */
  confirm(instruction: string, signal: AbortSignal): Promise<void>;
  /** Shows `question` and resolves with the line the person typed. */
  ask(question: string, signal: AbortSignal): Promise<string>;
  /** A line of information for the person (what is being measured now). */
  say(line: string): void;
}

export const NON_INTERACTIVE_REASON = 'needs a person at the bench: run `reflex hil` in a terminal without --yes';

export function nonInteractiveOperator(say: (line: string) => void = () => undefined): Operator {
  return {
    interactive: false,
    confirm: () => Promise.reject(new Error(NON_INTERACTIVE_REASON)),
    ask: () => Promise.reject(new Error(NON_INTERACTIVE_REASON)),
    say,
  };
}

export function terminalOperator(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Operator {
  return {
    interactive: true,
    async confirm(instruction, signal) {
      const rl = createInterface({ input, output });
      try {
        await rl.question(`${instruction} [Enter] `, { signal });
      } finally {
        rl.close();
      }
    },
    async ask(question, signal) {
      const rl = createInterface({ input, output });
      try {
        return await rl.question(`${question} `, { signal });
      } finally {
        rl.close();
      }
    },
    say: (line) => output.write(`${line}\n`),
  };
}
