/**
 * The HIL report as JUnit XML, for CI: one <testsuite> "reflex-hil.<board>", one <testcase>
 * per step, <failure> for a failed step and <skipped> for a skipped one, with the measured
 * values as <system-out>.
 */
import { writeFileSync } from 'node:fs';
import type { HilReport } from './types.js';

/** XML 1.0 text/attribute escape; control characters XML cannot carry become spaces. */
export function xmlEscape(s: string): string {
  let clean = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    clean += c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d ? ' ' : ch;
  }
  return clean.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const sec = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

function values(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}=${Number.isFinite(v) ? v : 'n/a'}`)
    .join(' ');
}

export function toJUnit(r: HilReport): string {
  const suite = `reflex-hil.${r.board.id}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="reflex-hil" tests="${r.steps.length}" failures="${r.summary.failed}" skipped="${r.summary.skipped}" time="${sec(r.durationMs)}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${r.steps.length}" failures="${r.summary.failed}" errors="0" skipped="${r.summary.skipped}"` +
      ` time="${sec(r.durationMs)}" timestamp="${xmlEscape(r.startedAt)}" hostname="${xmlEscape(r.host.hostname)}">`,
  ];
  for (const s of r.steps) {
    lines.push(`    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(`${s.id}: ${s.name}`)}" time="${sec(s.durationMs)}">`);
    if (s.status === 'fail') lines.push(`      <failure message="${xmlEscape(s.reason)}" type="hil.${s.id}">${xmlEscape(s.reason)}</failure>`);
    if (s.status === 'skip') lines.push(`      <skipped message="${xmlEscape(s.reason)}"/>`);
    lines.push(
      `      <system-out>${xmlEscape(`measured: ${values(s.measured)}\nlimits: ${values(s.limits)}\n${s.status === 'pass' ? s.reason : ''}`)}</system-out>`,
    );
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

export function writeJUnit(file: string, r: HilReport): void {
  writeFileSync(file, toJUnit(r));
}
