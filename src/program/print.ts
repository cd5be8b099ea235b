import { isRegRef, type Expr, type ProgramNode } from './types.js';

/**
 * Render a program as readable code, one leaf per line, blocks indented:
 *
 *     SEQ {
 *       REPEAT 10 as trial {
 *         CALL calibration.prompt("rest", $trial)
 *         WAIT 5000 ms
 *       }
 *     }
 */
export function printProgram(node: ProgramNode, indent = ''): string {
  const inner = indent + '  ';
  const block = (head: string, body: readonly ProgramNode[]) =>
    body.length === 0 ? `${indent}${head} {}` : `${indent}${head} {\n${body.map((c) => printProgram(c, inner)).join('\n')}\n${indent}}`;
  switch (node.op) {
    case 'CALL':
      return `${indent}CALL ${node.fn}(${(node.args ?? []).map(expr).join(', ')})${node.out ? ` -> ${node.out}` : ''}`;
    case 'SEQ':
      return block('SEQ', node.body);
    case 'REPEAT':
      return block(`REPEAT ${expr(node.times)}${node.counter ? ` as ${node.counter}` : ''}`, [node.body]);
    case 'BUFFER_REPEAT':
      return block(`BUFFER_REPEAT ${expr(node.times)}${node.counter ? ` as ${node.counter}` : ''} collect ${node.collect} into ${node.into}`, [node.body]);
    case 'LOOP':
      return block(`LOOP${node.while !== undefined ? ` while ${expr(node.while)}` : ''}${node.counter ? ` as ${node.counter}` : ''}`, [node.body]);
    case 'CHOOSE': {
      const lines = Object.entries(node.cases).map(([k, c]) => `${inner}case ${JSON.stringify(k)}:\n${printProgram(c, inner + '  ')}`);
      if (node.default) lines.push(`${inner}default:\n${printProgram(node.default, inner + '  ')}`);
      return `${indent}CHOOSE ${expr(node.which)} {\n${lines.join('\n')}\n${indent}}`;
    }
    case 'WEAVE':
      return block(`WEAVE${node.required !== undefined ? ` until ${node.required} done` : ''}`, node.body);
    case 'WAIT':
      return `${indent}WAIT ${expr(node.ms)} ms`;
    case 'POPEN':
      return (
        `${indent}POPEN [${node.cmd.map(expr).join(', ')}]${node.check ? ' check' : ''}` +
        `${node.timeoutMs !== undefined ? ` timeout ${node.timeoutMs} ms` : ''}${node.out ? ` -> ${node.out}` : ''}`
      );
    case 'PRINT':
      return `${indent}PRINT ${JSON.stringify(node.text)}`;
    case 'SET':
      return `${indent}SET ${node.reg} = ${expr(node.value)}`;
    case 'SPAWN':
      return block(
        `SPAWN ${node.mode ?? 'thread'}${node.module ? ` with ${JSON.stringify(node.module)}` : ''}${node.merge ? ` merge [${node.merge.join(', ')}]` : ''}`,
        [node.body],
      );
  }
}

function expr(e: Expr): string {
  return isRegRef(e) ? `$${e.$reg}` : JSON.stringify(e);
}
