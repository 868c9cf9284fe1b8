// StrykerJS plugins for `npm run mutation-score` (plain JavaScript: Stryker loads plugins itself,
// without the TypeScript loader).
//
// - `detcd-sample`, a checker: a full run of every mutant of core/raft + core/replica takes many
//   hours, so the score is measured on a simple random sample of them. Stryker hands the checker
//   every mutant in one group; it keeps the `size` mutants whose stable key (file, position,
//   mutator, replacement) hashes lowest under `salt` — a sample without replacement that is the
//   same on every run of the same code — and marks the rest "compileError" with the reason
//   `not in the sample`, which keeps them out of Stryker's score and out of the test runs.
//   `score.ts` reports the sampled ones only.
// - `detcd-log-text`, an ignorer: text that only reaches a log line or an assertion's message
//   (logger calls, assert's message argument, AssertionError's text) changes no behaviour; its
//   mutants would all survive as equivalent and dilute the score.
import { PluginKind, declareClassPlugin, declareValuePlugin, commonTokens } from '@stryker-mutator/api/plugin';

export const notInSample = 'not in the sample';

/** 32-bit FNV-1a, then a final avalanche: the sample must not follow the text's order. */
function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The mutant's identity that does not depend on Stryker's numbering or the sandbox's path. */
export function mutantKey(mutant) {
  const file = mutant.fileName.replace(/\\/g, '/');
  const at = file.lastIndexOf('/core/');
  const relative = at >= 0 ? file.slice(at + 1) : file;
  const { line, column } = mutant.location.start;
  return `${relative}:${line}:${column}:${mutant.mutatorName}:${mutant.replacement}`;
}

class SampleChecker {
  static inject = [commonTokens.options];
  constructor(options) {
    const sample = options.detcdSample ?? {};
    this.size = Number(sample.size ?? 100);
    this.salt = String(sample.salt ?? 'detcd');
    // Re-judging part of an earlier sample (its survivors, after new checks): exactly these keys.
    this.keys = Array.isArray(sample.keys) ? new Set(sample.keys.map(String)) : null;
  }
  async init() {}
  async group(mutants) {
    return [mutants.map((mutant) => mutant.id)];
  }
  async check(mutants) {
    const ranked = mutants.map((mutant) => ({ id: mutant.id, rank: hash32(`${this.salt}|${mutantKey(mutant)}`), key: mutantKey(mutant) }));
    ranked.sort((a, b) => a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const picked = this.keys === null ? ranked.slice(0, this.size) : ranked.filter((entry) => this.keys.has(entry.key));
    const chosen = new Set(picked.map((entry) => entry.id));
    const results = {};
    for (const mutant of mutants) results[mutant.id] = chosen.has(mutant.id) ? { status: 'passed' } : { status: 'compileError', reason: notInSample };
    return results;
  }
}

function isLogOrAssertText(path) {
  for (let current = path; current !== null && current !== undefined; current = current.parentPath) {
    const node = current.node;
    const parent = current.parentPath?.node;
    if (parent === undefined || parent === null) return false;
    if (parent.type === 'CallExpression' || parent.type === 'OptionalCallExpression') {
      const callee = parent.callee;
      const isArgument = parent.arguments.includes(node);
      if (!isArgument) continue;
      // raft.logger?.info(...), this.logger?.warn(...)
      if ((callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression') && callee.object.type.endsWith('MemberExpression') && callee.object.property?.name === 'logger') return true;
      // assert(condition, message): the message only
      if (callee.type === 'Identifier' && callee.name === 'assert' && parent.arguments.indexOf(node) >= 1) return true;
    }
    if (parent.type === 'NewExpression' && parent.callee.type === 'Identifier' && parent.callee.name === 'AssertionError' && parent.arguments.includes(node)) return true;
    if (current.isStatement?.()) return false;
  }
  return false;
}

export const strykerPlugins = [
  declareClassPlugin(PluginKind.Checker, 'detcd-sample', SampleChecker),
  declareValuePlugin(PluginKind.Ignore, 'detcd-log-text', {
    shouldIgnore(path) {
      return isLogOrAssertText(path) ? 'text of a log line or an assertion message: no behaviour' : undefined;
    },
  }),
];
