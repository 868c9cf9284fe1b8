import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { listenOn } from '../listen.ts';
import { AuthorityRewriter, EMPTY_SETTINGS, IDLE_GOAWAY, firstAuthority, needsRewrite, rewritingStream, scanClientStart, takePings, withoutFrame } from './h2Authority.ts';

/**
 * How long an HTTP/2 connection's SETTINGS ACK is waited for once its first header block is in
 * (see ClientServer.sniff), and how many bytes its start may hold (and our PING ACKs queue).
 */
const H2_ACK_WAIT_MS = 200;
const H2_SNIFF_BYTES = 64 * 1024;
/**
 * How long an HTTP/2 connection may stay open without its first header block; then it is ended
 * with a GOAWAY (no stream processed) and the client reconnects for its next call. Long enough
 * that an idle client's reconnects cost nothing (one TCP connection per idle client per limit).
 */
export const H2_FIRST_CALL_MS = 5 * 60_000;
/** How long an ended idle connection may take to close on the client's side before it is destroyed. */
const H2_GOAWAY_GRACE_MS = 1_000;

export interface ClientServerOptions {
  /** {@link H2_FIRST_CALL_MS} unless given (tests shorten it). */
  readonly firstCallMs?: number;
}

/** How the client port handed on its HTTP/2 connections (tests read it). */
export interface HandedConnections {
  /** Its own socket to grpc-js: nghttp2 reads and writes it directly (the fast path). */
  native: number;
  /** Through the stream that strips a scheme from `:authority` (the slow path). */
  rewritten: number;
  /** Ended with a GOAWAY: no header block within the first-call limit. */
  idleEnded: number;
}

export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * One client port serving gRPC and HTTP/1 together, as etcd does with cmux: each connection's
 * first bytes decide. HTTP/2's connection preface starts "PRI * HTTP/2.0", which no HTTP/1
 * request line does; such a connection goes to grpc-js (through its connection injector), any
 * other to the HTTP/1 handler (/health, /version, /metrics). With TLS the handshake comes first
 * (ALPN offers h2 and http/1.1) and the decrypted stream is sniffed the same way. An HTTP/2
 * connection is read up to its first header block first (h2Authority.ts): one whose `:authority`
 * holds a scheme (etcdctl's `--endpoints=http://…`), which nghttp2 refuses, is handed on through
 * a stream that strips it. However long the connection waits for its first call.
 */
export class ClientServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly http;
  private readonly injector;
  private readonly firstCallMs: number;
  readonly handed: HandedConnections = { native: 0, rewritten: 0, idleEnded: 0 };

  constructor(
    private readonly grpcServer: grpc.Server,
    handler: HttpHandler,
    options: ClientServerOptions = {},
  ) {
    this.firstCallMs = options.firstCallMs ?? H2_FIRST_CALL_MS;
    this.http = createHttpServer(handler);
    this.injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  }

  /** Listens on `url` (http or https); resolves once bound. */
  async listen(url: URL, tls: TlsOptions | null): Promise<void> {
    const onConnection = (socket: Socket): void => this.sniff(socket);
    const server = url.protocol === 'https:' ? createTlsServer({ ...(tls ?? {}), ALPNProtocols: ['h2', 'http/1.1'] }, onConnection) : createNetServer(onConnection);
    await listenOn(server, url);
    this.servers.push(server);
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.injector.destroy();
    this.grpcServer.forceShutdown();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.http.close();
  }

  private sniff(socket: Socket): void {
    this.sockets.add(socket);
    // Small replies must leave at once: with Nagle's algorithm on, a reply waits for the client's
    // delayed ACK (40 ms on Linux). grpc-js sets this on sockets it accepts itself; these it does not.
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    let timer: NodeJS.Timeout | null = null;
    let startedAt = 0;
    // A connection that sends fewer than the three bytes that tell HTTP/1 from HTTP/2 within the
    // first-call limit is closed: nobody holds a socket here forever by saying nothing.
    const silent = setTimeout(() => socket.destroy(), this.firstCallMs);
    socket.on('close', () => {
      clearTimeout(silent);
      clearTimeout(timer ?? undefined);
    });
    const onData = (chunk: Buffer): void => {
      head = head.byteLength === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.byteLength < 3) return;
      clearTimeout(silent);
      if (head.subarray(0, 3).toString('latin1') !== 'PRI') {
        socket.off('data', onData);
        socket.pause();
        socket.unshift(head);
        this.http.emit('connection', socket);
        socket.resume();
        return;
      }
      if (timer === null) {
        socket.write(EMPTY_SETTINGS);
        startedAt = performance.now();
        timer = setTimeout(endIdle, this.firstCallMs);
      }
      let start = scanClientStart(head);
      if (start.pingsAt.length > 0) {
        const { rest, answers } = takePings(head, start);
        socket.write(Buffer.concat(answers));
        // A client that pings without reading the answers is not served further (nghttp2 ends such
        // a flood too): what waits to be written stays within H2_SNIFF_BYTES.
        if (socket.writableLength > H2_SNIFF_BYTES) {
          socket.destroy();
          return;
        }
        head = rest;
        start = scanClientStart(head);
      }
      if ((start.ackAt !== null && start.firstBlock !== null) || !start.wellFormed || head.byteLength >= H2_SNIFF_BYTES) handOn();
      else if (start.firstBlock !== null) {
        // The call is in but the ACK of our SETTINGS is not: wait for it up to H2_ACK_WAIT_MS from
        // the connection's start (grpc-go ACKs at once), then go on without it.
        clearTimeout(timer);
        timer = setTimeout(handOn, Math.max(0, startedAt + H2_ACK_WAIT_MS - performance.now()));
      }
    };
    // An HTTP/2 connection goes on once its SETTINGS ACK and first header block are in (however
    // long the client waited before its first call: its `:authority` decides the path), or at
    // H2_SNIFF_BYTES. Until then PINGs are answered here; the client's SETTINGS are ACKed by
    // nghttp2 once it has the connection (an ACK of ours would make nghttp2's a second one, which
    // grpc-js's nghttp2 takes as a connection error; etcdctl and grpc-js were seen waiting for it
    // without complaint, though RFC 7540 6.5.3 lets a client time it out), and its WINDOW_UPDATEs
    // reach nghttp2 then.
    const handOn = (): void => {
      clearTimeout(timer!);
      socket.off('data', onData);
      socket.pause();
      const start = scanClientStart(head);
      if (start.ackAt !== null && !needsRewrite(start.firstBlock === null ? null : firstAuthority(start.firstBlock))) {
        // The fast path: grpc-js gets the socket itself with the sniffed bytes put back (less
        // the ACK of our SETTINGS). Node's HTTP/2 reads what is already buffered first and then
        // consumes the native handle, so nghttp2 reads and writes the socket directly; a wrapping
        // Duplex would put it behind a JSStreamSocket, which cost a third of the leader's CPU
        // under load (a JavaScript hop and a write per frame).
        this.handed.native++;
        socket.unshift(withoutFrame(head, start.ackAt));
        this.injector.injectConnection(socket);
      } else {
        // The slow path (etcdctl's one-shot calls to `http://…` endpoints): a rewriting stream.
        this.handed.rewritten++;
        const stream = rewritingStream(socket, new AuthorityRewriter(true), head);
        stream.on('error', () => stream.destroy());
        this.injector.injectConnection(stream);
      }
    };
    // No call within the first-call limit: end the connection as grpc-go's MaxConnectionIdle
    // would, so that a client which never calls holds neither this pre-read nor a timer forever.
    const endIdle = (): void => {
      this.handed.idleEnded++;
      socket.off('data', onData);
      head = Buffer.alloc(0);
      socket.resume();
      socket.end(IDLE_GOAWAY);
      timer = setTimeout(() => socket.destroy(), H2_GOAWAY_GRACE_MS);
    };
    socket.on('data', onData);
  }
}
