/**
 * Reads a history in any supported format, detecting the format (and through it the model) when
 * not told. Detection looks at the first non-blank line only and never guesses past it: a
 * Jepsen log line, an EDN map or a JSON object; anything else is an error naming that line.
 */
import { parseJepsenEdn } from './jepsenEdn.ts';
import { isJepsenLogLine, parseJepsenLog } from './jepsenLog.ts';
import { parseJsonLines } from './jsonLines.ts';
import { HistoryParseError, linesOf } from './parseError.ts';
import type { ModelName, TypedHistory } from './typedHistory.ts';

export const formatNames = ['jepsen-log', 'jepsen-edn', 'jsonl'] as const;
export type FormatName = (typeof formatNames)[number];

/** The only model each Jepsen format is written for (JSON lines carry any). */
const modelOfFormat: Partial<Record<FormatName, ModelName>> = { 'jepsen-log': 'register', 'jepsen-edn': 'kv' };

export interface ParseOptions {
  readonly format?: FormatName;
  readonly model?: ModelName;
}

export interface ParsedHistory {
  /** Undefined for an empty file, which is an empty history in every format. */
  readonly format: FormatName | undefined;
  readonly history: TypedHistory;
}

export function parseHistory(input: string, options: ParseOptions = {}): ParsedHistory {
  // A UTF-8 byte-order mark is not part of the first line (`historyText` drops it from bytes).
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const lines = linesOf(text);
  const firstIndex = lines.findIndex((line) => line.trim() !== '');
  if (firstIndex < 0) {
    const model = options.model ?? (options.format === undefined ? undefined : modelOfFormat[options.format]) ?? 'register';
    return { format: options.format, history: emptyHistory(model) };
  }
  const firstLine = firstIndex + 1;
  const format = options.format ?? detectFormat(lines[firstIndex]!, firstLine);
  const formatModel = modelOfFormat[format];
  if (options.model !== undefined && formatModel !== undefined && options.model !== formatModel) {
    throw new HistoryParseError(firstLine, `a ${format} history is checked with the ${formatModel} model, not ${options.model}`);
  }
  switch (format) {
    case 'jepsen-log':
      return { format, history: { model: 'register', operations: parseJepsenLog(text) } };
    case 'jepsen-edn':
      return { format, history: { model: 'kv', operations: parseJepsenEdn(text) } };
    case 'jsonl':
      return { format, history: parseJsonLines(text, options.model) };
  }
}

function detectFormat(line: string, lineNumber: number): FormatName {
  const content = line.trim();
  if (isJepsenLogLine(content)) return 'jepsen-log';
  if (content.startsWith('{:')) return 'jepsen-edn';
  if (/^\{\s*("|\})/.test(content)) return 'jsonl';
  throw new HistoryParseError(lineNumber, 'cannot tell the format: expected a Jepsen log line, an EDN map or a JSON object (or give --format)');
}

function emptyHistory(model: ModelName): TypedHistory {
  return model === 'etcd' ? { model, operations: [], initialRevision: 1 } : { model, operations: [] };
}
