import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What real etcdctl 3.4.23 printed against real etcd 3.4.23, one block per command: the file
 * `etcdctl-3.4-outputs.md` beside this one (captured by the project on loopback with Debian's
 * packages; etcd's output text, kept as test data — see README.md here).
 */
export interface ReferenceBlock {
  /** The `## ` section the block sits in. */
  readonly section: string;
  /** The shell command as it was run (`sh -c`, stdout and stderr merged). */
  readonly command: string;
  readonly output: string;
  readonly exitCode: number;
}

export const referenceFile = join(dirname(fileURLToPath(import.meta.url)), 'etcdctl-3.4-outputs.md');

export function readReference(path = referenceFile): ReferenceBlock[] {
  const blocks: ReferenceBlock[] = [];
  let section = '';
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) section = line.slice(3).trim();
    if (line !== '```console') continue;
    const command = lines[++i]!;
    if (!command.startsWith('$ ')) throw new Error(`${path}:${i + 1}: a console block must start with "$ "`);
    const output: string[] = [];
    let exit: RegExpExecArray | null = null;
    for (i++; i < lines.length && lines[i] !== '```'; i++) {
      exit = /^\[exit (\d+)\]$/.exec(lines[i]!);
      if (exit === null) output.push(lines[i]!);
    }
    if (exit === null) throw new Error(`${path}: the block of "${command}" has no [exit N] line`);
    blocks.push({ section, command: command.slice(2), output: output.length === 0 ? '' : `${output.join('\n')}\n`, exitCode: Number(exit[1]) });
  }
  return blocks;
}

/** The block whose command is exactly `command`; the first of several, or the `nth` (from 0). */
export function referenceBlock(blocks: readonly ReferenceBlock[], command: string, nth = 0): ReferenceBlock {
  const found = blocks.filter((block) => block.command === command)[nth];
  if (found === undefined) throw new Error(`no reference block for: ${command}`);
  return found;
}
