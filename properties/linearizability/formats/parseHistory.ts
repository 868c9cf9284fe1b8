/**
 * Reads a history in any supported format, detecting the format (and through it the model) when
 * not told. Detection looks at the first non-blank line only and never guesses past it: a
 * Jepsen log line, an EDN map or a JSON object; anything else is an error naming that line.
 */
import { parseJepsenEdn } from './jepsenEdn.ts';
import { isJepsenLogLine, parseJepsenLog } from './jepsenLog.ts';
import { parseEtcdRobustness } from './etcdRobustness.ts';
import { parseJsonLines } from './jsonLines.ts';
import { firstContentLine, HistoryParseError } from './parseError.ts';
import type { ModelName, TypedHistory } from './typedHistory.ts';

export const formatNames = ['jepsen-log', 'jepsen-edn', 'jsonl', 'etcd-robustness'] as const;
export type FormatName = (typeof formatNames)[number];

/** The models each format is written for (JSON lines carry any). */
const modelsOfFormat: Partial<Record<FormatName, readonly ModelName[]>> = { 'jepsen-log': ['register'], 'jepsen-edn': ['kv', 'register', 'registers'], 'etcd-robustness': ['etcd'] };

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
  const first = firstContentLine(text);
  if (first === undefined) {
    const model = options.model ?? (options.format === undefined ? undefined : modelsOfFormat[options.format]?.[0]) ?? 'register';
    return { format: options.format, history: emptyHistory(model) };
  }
  const firstLine = first.line;
  const format = options.format ?? detectFormat(first.content, firstLine);
  const formatModels = modelsOfFormat[format];
  if (options.model !== undefined && formatModels !== undefined && !formatModels.includes(options.model)) {
    throw new HistoryParseError(firstLine, `a ${format} history is checked with the ${formatModels.join(' or ')} model, not ${options.model}`);
  }
  const history = parseFormat(format, text, options.model);
  if (options.model !== undefined && history.model !== options.model) {
    throw new HistoryParseError(firstLine, `this ${format} history holds ${history.model} operations, not ${options.model}`);
  }
  return { format, history };
}

function parseFormat(format: FormatName, text: string, model: ModelName | undefined): TypedHistory {
  switch (format) {
    case 'jepsen-log':
      return { model: 'register', operations: parseJepsenLog(text) };
    case 'jepsen-edn':
      return parseJepsenEdn(text);
    case 'jsonl':
      return parseJsonLines(text, model);
    case 'etcd-robustness':
      return parseEtcdRobustness(text);
  }
}

function detectFormat(line: string, lineNumber: number): FormatName {
  const content = line.trim();
  if (isJepsenLogLine(content)) return 'jepsen-log';
  if (/^\[?\s*\{:/.test(content)) return 'jepsen-edn';
  // etcd's robustness reports: Porcupine operations, each an indented JSON object.
  if (content === '{' || /^\{\s*"ClientI[dD]"/.test(content)) return 'etcd-robustness';
  if (/^\{\s*("|\})/.test(content)) return 'jsonl';
  throw new HistoryParseError(lineNumber, 'cannot tell the format: expected a Jepsen log line, an EDN map or a JSON object (or give --format)');
}

function emptyHistory(model: ModelName): TypedHistory {
  if (model === 'etcd') return { model, operations: [], initialRevision: 1 };
  return { model, operations: [] } as TypedHistory;
}
