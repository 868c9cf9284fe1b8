import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeFolders } from '../../scenarios/folders.ts';
import { UsageError } from './usage.ts';

/** Writes an output file, making its folder; a path that cannot be written is bad input (exit 2). */
export function writeOutputFile(path: string, text: string, flag: string): void {
  try {
    makeFolders(dirname(path));
    writeFileSync(path, text);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot write: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Makes an output folder; one that cannot be made is bad input (exit 2). */
export function makeOutputFolder(path: string, flag: string): void {
  try {
    makeFolders(path);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot create the folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
