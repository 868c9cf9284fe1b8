import type { IncomingMessage, ServerResponse } from 'node:http';
import { confChange, type Message } from '../../core/raft/index.ts';
import type { LogReplica, LogReply, LogRequest } from '../../core/replica/logReplica.ts';
import type { NodeHost } from '../nodeHost.ts';

/** How long a log request waits for its reply before the client is told the outcome is unknown. */
const requestTimeoutMs = 5_000;
const bodyBytesMax = 4_096;

/**
 * The replicated log's client path, for tests (`--experimental-log-api`): JSON over HTTP/1 on the
 * client port, until the etcd node brings the real API.
 *
 * - `POST /detcd/log/append` `{"value": N}` → 200 `{"index": i}` once the value is committed,
 *   applied and durable.
 * - `GET /detcd/log/read` → 200 `{"index", "length", "digest", "values": [...]}`: the log as of a
 *   linearizable read point (ReadIndex).
 * - `POST /detcd/log/members` `{"peerUrls": [...], "learner"?: true}` → 200 `{"id": hex, "index"}`:
 *   adds the member whose id etcd would give those URLs (with this cluster's token); the member
 *   then starts with `--initial-cluster-state existing`. `DELETE /detcd/log/members/<hex id>`
 *   removes one.
 * - 503 `{"error": reason}`: surely not done (no leader to take the proposal, too many requests);
 *   504 `{"error": "timeout"}`: unknown, it may still happen.
 */
export function logApiHandler(host: () => NodeHost<Message, LogRequest, LogReply, LogReplica> | null, memberIdOf: (peerUrls: readonly string[]) => number) {
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (path !== '/detcd/log/append' && path !== '/detcd/log/read' && !path.startsWith('/detcd/log/members')) return false;
    const running = host();
    if (running === null) {
      send(response, 503, { error: 'stopping' });
      return true;
    }
    if (path.startsWith('/detcd/log/members')) {
      members(running, request, response, path, memberIdOf);
      return true;
    }
    if (path === '/detcd/log/read') {
      if (request.method !== 'GET') send(response, 405, { error: 'use GET' });
      else void submit(running, { kind: 'read' }, response);
      return true;
    }
    if (request.method !== 'POST') {
      send(response, 405, { error: 'use POST' });
      return true;
    }
    readBody(request).then(
      (body) => {
        const value = (body as { value?: unknown } | null)?.value;
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) send(response, 400, { error: 'the body must be {"value": a non-negative integer}' });
        else void submit(running, { kind: 'append', value }, response);
      },
      (error: Error) => send(response, 400, { error: error.message }),
    );
    return true;
  };
}

function members(host: NodeHost<Message, LogRequest, LogReply, LogReplica>, request: IncomingMessage, response: ServerResponse, path: string, memberIdOf: (peerUrls: readonly string[]) => number): void {
  const removed = /^\/detcd\/log\/members\/([0-9a-f]{1,14})$/.exec(path);
  if (request.method === 'DELETE' && removed !== null) {
    void submit(host, { kind: 'conf-change', change: confChange([{ type: 'removeNode', nodeId: Number.parseInt(removed[1]!, 16) }]) }, response);
    return;
  }
  if (request.method !== 'POST' || path !== '/detcd/log/members') {
    send(response, 405, { error: 'POST /detcd/log/members or DELETE /detcd/log/members/<id>' });
    return;
  }
  readBody(request).then(
    (body) => {
      const { peerUrls, learner } = (body ?? {}) as { peerUrls?: unknown; learner?: unknown };
      if (!Array.isArray(peerUrls) || peerUrls.length === 0 || !peerUrls.every((url) => typeof url === 'string')) {
        send(response, 400, { error: 'the body must be {"peerUrls": ["http://host:port", ...]}' });
        return;
      }
      const id = memberIdOf(peerUrls as string[]);
      void submit(host, { kind: 'conf-change', change: confChange([{ type: learner === true ? 'addLearner' : 'addNode', nodeId: id }]) }, response, id);
    },
    (error: Error) => send(response, 400, { error: error.message }),
  );
}

async function submit(host: NodeHost<Message, LogRequest, LogReply, LogReplica>, request: LogRequest, response: ServerResponse, memberId?: number): Promise<void> {
  const outcome = await host.submit(request, requestTimeoutMs);
  if (outcome.outcome === 'timeout') return send(response, 504, { error: 'timeout' });
  if (outcome.outcome === 'refused') return send(response, 503, { error: outcome.reason });
  const reply = outcome.reply;
  switch (reply.kind) {
    case 'appended':
      return send(response, 200, { index: reply.index });
    case 'read':
      // The values are append-only and were applied up to the read point when the reply was
      // made: their first `length` are the log as of that point.
      return send(response, 200, { index: reply.index, length: reply.length, digest: reply.digest, values: host.node.values.slice(0, reply.length) });
    case 'conf-changed':
      return send(response, 200, { index: reply.index, ...(memberId === undefined ? {} : { id: memberId.toString(16) }), voters: reply.confState.voters.map((id) => id.toString(16)), learners: reply.confState.learners.map((id) => id.toString(16)) });
    case 'error':
      return send(response, 503, { error: reply.reason });
    default:
      return send(response, 500, { error: `unexpected reply ${reply.kind}` });
  }
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (bytes > bodyBytesMax) {
        reject(new Error(`request body over ${bodyBytesMax} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error('the body is not JSON'));
      }
    });
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
