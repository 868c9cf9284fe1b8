import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad input from the command line: printed as one line on stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const exitOk = 0;
/** A run found a violation (or a checked history is not linearizable). */
export const exitViolation = 1;
export const exitUsage = 2;
/** A check ran out of budget: neither proven nor refuted. */
export const exitUnknown = 3;
export const exitInternal = 70;

type Options = NonNullable<ParseArgsConfig['options']>;

/** `util.parseArgs` in strict mode, with its errors turned into one-line UsageErrors. */
export function parseCommandLine<O extends Options>(argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    // `--seed -1`: parseArgs will not take a value that looks like a flag, and says "ambiguous".
    const ambiguous = /^Option '(-[^']+)' argument is ambiguous/.exec(message);
    if (ambiguous !== null) throw new UsageError(`${ambiguous[1]} needs a value (one that starts with "-" is written ${ambiguous[1]}=VALUE)`);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/, ''));
  }
}

/** Parses a decimal non-negative safe integer, or throws a UsageError naming the flag. */
export function parseNat(text: string | undefined, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) throw new UsageError(`${flag} needs a value`);
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a non-negative integer, got "${text}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value > max) throw new UsageError(`${flag} must be at most ${max}, got ${text}`);
  return value;
}

/** Parses a positive decimal number (seconds may be fractional). */
export function parsePositiveNumber(text: string | undefined, flag: string): number {
  if (text === undefined) throw new UsageError(`${flag} needs a value`);
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) throw new UsageError(`${flag} must be a positive number, got "${text}"`);
  return Number(text);
}

const durationUnitsUs: Record<string, number> = { us: 1, ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 };

/**
 * A duration such as `90s`, `1.5s`, `250ms`, `10m`, `1h30m` or `2500us`, in microseconds; a bare
 * number is seconds.
 */
export function parseDuration(text: string | undefined, flag: string): number {
  if (text === undefined) throw new UsageError(`${flag} needs a value`);
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1_000_000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new UsageError(`${flag} must be a duration like 90s, 250ms, 10m or 1h30m, got "${text}"`);
  return Math.round(parts.reduce((sum, part) => sum + Number(part[1]) * durationUnitsUs[part[2]!]!, 0));
}
