/**
 * The etcd model's lookahead (`Model.analyze`): what the completed responses say about the
 * keyspace at each revision, checked as soon as the search makes that revision, instead of where
 * the read that saw it is finally placed.
 *
 * A kv shown in the keyspace at revision R with create revision c and mod revision m fixes the key
 * at every revision in between: absent at c - 1 (it was created at c), present with create
 * revision c throughout [c, R] (a delete and a new put would give a later one), and exactly as
 * shown throughout [m, R]. A key shown absent at R was absent there. The revision of a keyspace
 * never changes once the search has passed it, so a state that contradicts one of these facts has
 * no completion: the read that saw it will fail there. Without this, a wrong guess about which
 * unknown-outcome write filled a gap (etcd-compaction seed 242: a put of d/c placed at revision 3,
 * where a read at 23 shows d/c created at 4) was found only after every way of filling the 18
 * gaps between them had been tried.
 *
 * Facts come from the responses that show a keyspace at a known revision (`etcdObservations.ts`).
 * Each step is checked against the facts that begin at its revision and, for the keys it
 * modified, against those that span it.
 */
import type { Operation } from '../history.ts';
import type { HistoryAnalysis, Lookahead } from '../model.ts';
import { keysPutBy, observeKeyspaces, Spans } from './etcdObservations.ts';
import type { EtcdState, StoredKey } from './etcdState.ts';
import type { EtcdKeyValue, EtcdRequest, EtcdResponse } from './etcdTypes.ts';
import { mapChangedKeys, mapGet } from './persistentSortedMap.ts';

/** The key at one revision, as a response showed it (only the fields shown), or absent. */
interface Fact {
  readonly key: string;
  /** null: absent. */
  readonly shown: EtcdKeyValue | null;
  /** Whether `shown.value` is the value (not a keys-only read's empty one). */
  readonly withValue: boolean;
}

/** What the search checks a new revision against. */
interface KeyspaceFacts {
  /** Facts about the keyspace at exactly this revision. */
  readonly at: Map<number, Fact[]>;
  /** Per key: spans (m, R] in which it was not modified at all. */
  readonly unmodified: Map<string, Spans>;
  /** Per key: spans (c, R] in which it stayed present in one generation (no delete, no re-creation). */
  readonly alive: Map<string, Spans>;
}

export function analyzeEtcd(operations: readonly Operation<EtcdRequest, EtcdResponse>[], initialRevision: number): HistoryAnalysis<EtcdState> {
  // Without unknown-outcome writes every revision is made by a completed request that the
  // sequence order places: there is nothing to guess, so nothing to look ahead for.
  if (!operations.some((operation) => operation.outcome === 'unknown')) return {};
  const facts: KeyspaceFacts = { at: new Map(), unmodified: new Map(), alive: new Map() };
  const fact = (revision: number, key: string, shown: EtcdKeyValue | null, withValue: boolean) => {
    // The model knows nothing of the keyspace before the history began.
    if (revision <= initialRevision) return;
    const list = facts.at.get(revision);
    if (list === undefined) facts.at.set(revision, [{ key, shown, withValue }]);
    else list.push({ key, shown, withValue });
  };
  const spans = (map: Map<string, Spans>, key: string) => {
    let found = map.get(key);
    if (found === undefined) map.set(key, (found = new Spans()));
    return found;
  };
  observeKeyspaces(
    operations.flatMap((operation) => (operation.outcome === 'ok' && operation.output !== undefined ? [[operation.input, operation.output] as const] : [])),
    keysPutBy(operations.map((operation) => operation.input)),
    {
      shown(kv, revision, withValue) {
        fact(revision, kv.key, kv, withValue);
        if (kv.modRevision !== undefined && kv.modRevision < revision) {
          fact(kv.modRevision, kv.key, kv, withValue);
          spans(facts.unmodified, kv.key).add(kv.modRevision, revision);
        }
        const created = kv.createRevision;
        if (created !== undefined && created > 0 && created <= revision) {
          fact(created - 1, kv.key, null, false);
          if (created < revision) {
            fact(created, kv.key, { key: kv.key, createRevision: created }, false);
            spans(facts.alive, kv.key).add(created, revision);
          }
        }
      },
      absent(key, revision) {
        fact(revision, key, null, false);
      },
    },
  );
  if (facts.at.size === 0) return {};
  return { lookahead: () => etcdLookahead(facts) };
}

function etcdLookahead(facts: KeyspaceFacts): Lookahead<EtcdState> {
  return {
    track() {},
    viable(state) {
      const revision = state.revision;
      const here = facts.at.get(revision);
      if (here !== undefined && !here.every((fact) => holds(fact, mapGet(state.keys, fact.key)))) return false;
      const before = state.past;
      if (before === undefined || before.revision !== revision - 1) return true;
      // The keys this revision modified must not be ones known unmodified (or alive) across it.
      let viable = true;
      mapChangedKeys(before.keys, state.keys, (key, stored) => {
        if (facts.unmodified.get(key)?.covers(revision) === true) viable = false;
        else if ((stored === undefined || stored.createRevision === revision) && facts.alive.get(key)?.covers(revision) === true) viable = false;
        return viable;
      });
      return viable;
    },
  };
}

function holds(fact: Fact, stored: StoredKey | undefined): boolean {
  const shown = fact.shown;
  if (shown === null) return stored === undefined;
  if (stored === undefined) return false;
  return (
    (shown.createRevision === undefined || shown.createRevision === stored.createRevision) &&
    (shown.modRevision === undefined || shown.modRevision === stored.modRevision) &&
    (!fact.withValue || shown.value === undefined || shown.value === stored.value) &&
    (shown.version === undefined || shown.version === stored.version) &&
    (shown.lease === undefined || shown.lease === stored.lease)
  );
}
