import type { Io } from '../cli/command.ts';
import { main } from '../detcd-sim.ts';

/** Runs the CLI in this process and collects what it prints: the tests' way to be a user. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (text) => void (out += `${text}\n`), err: (text) => void (err += `${text}\n`) };
  const code = await main(argv, io);
  return { code, out, err };
}
