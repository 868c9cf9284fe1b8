import { describeAlarm, ErrBadLeaderTransferee, ErrNoLeader, ErrNotLeader, type StatusResponse } from '../api/index.ts';
import { hashBackendImage } from '../mvcc/index.ts';
import type { EtcdServer } from './etcdServer.ts';
import { answer, bareHeader } from './requestHandling.ts';
import type { Waiter } from './waiters.ts';

/** What Status reports as the server's version. */
export const serverVersion = '3.5.0-detcd';

/*
 * etcd's Maintenance API (api/v3rpc/maintenance.go): answered by this member from its own state,
 * except Alarm, which goes through Raft (see requestHandling).
 */
export function handleMaintenanceCall(server: EtcdServer, waiter: Waiter): void {
  const { request } = waiter;
  const state = server.state;
  switch (request.method) {
    case 'Status':
      return answer(server, waiter, status(server));
    case 'HashKV':
      return answer(server, waiter, state.kv.hashKV(request.request));
    case 'Defragment':
      if (server.waitForSlicedApply(waiter)) return;
      // A rewrite of the backend file: one atomic replace, synced before the reply leaves. A crash
      // before it is durable leaves the old file, which holds the same data.
      state.backend.defrag();
      server.syncNextReady();
      return answer(server, waiter, { header: bareHeader(state.kv.revision) });
    case 'Snapshot': {
      if (server.waitForSlicedApply(waiter)) return;
      const image = state.backend.snapshot();
      return answer(server, waiter, {
        header: bareHeader(state.kv.revision),
        blob: image,
        remainingBytes: 0,
        consistentIndex: image.meta.consistentIndex,
        size: image.size,
        hash: hashBackendImage(image),
      });
    }
    case 'MoveLeader':
      return moveLeader(server, waiter, request.request.targetID);
    default:
      throw new Error(`${request.method} is not a maintenance call`);
  }
}

/** etcd's Status: the member's view of Raft and its backend; no leader and raised alarms are listed as errors. */
function status(server: EtcdServer): StatusResponse {
  const state = server.state;
  const errors: string[] = [];
  if (server.softState.lead === 0) errors.push(ErrNoLeader.message);
  for (const alarm of state.alarms.list) errors.push(describeAlarm(alarm));
  return {
    header: bareHeader(state.kv.revision),
    version: serverVersion,
    dbSize: state.backend.size,
    leader: server.softState.lead,
    raftIndex: server.hardState.commit,
    raftTerm: server.hardState.term,
    raftAppliedIndex: server.appliedIndex,
    errors,
    dbSizeInUse: state.backend.sizeInUse,
    isLearner: state.membership.isLearner(server.id),
    dbSizeQuota: server.config.quotaBackendBytes,
  };
}

/**
 * etcd's MoveLeader: only on the leader (ErrNotLeader), only to a voting member
 * (ErrBadLeaderTransferee); answered once the transferee leads, or ErrTimeoutLeaderTransfer after
 * the request timeout.
 */
function moveLeader(server: EtcdServer, waiter: Waiter, target: number): void {
  if (server.softState.lead !== server.id) return server.replyError(waiter, ErrNotLeader);
  const member = server.state.membership.member(target);
  if (member === undefined || member.isLearner) return server.replyError(waiter, ErrBadLeaderTransferee);
  if (target === server.id) return answer(server, waiter, { header: bareHeader(server.state.kv.revision) });
  server.raft.transferLeadership(target);
  server.waiters.transfers.push({ waiter, target });
}
