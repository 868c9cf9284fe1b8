import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { listenOn } from '../listen.ts';
import { AuthorityRewriter, EMPTY_SETTINGS, firstAuthority, needsRewrite, rewritingStream, scanClientStart, withoutFrame } from './h2Authority.ts';

/** How long an HTTP/2 connection's start is waited for (see ClientServer.sniff), and how many bytes of it. */
const H2_SNIFF_MS = 200;
const H2_SNIFF_BYTES = 64 * 1024;

export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * One client port serving gRPC and HTTP/1 together, as etcd does with cmux: each connection's
 * first bytes decide. HTTP/2's connection preface starts "PRI * HTTP/2.0", which no HTTP/1
 * request line does; such a connection goes to grpc-js (through its connection injector), any
 * other to the HTTP/1 handler (/health, /version, /metrics). With TLS the handshake comes first
 * (ALPN offers h2 and http/1.1) and the decrypted stream is sniffed the same way. An HTTP/2
 * connection is read up to its first header block first (h2Authority.ts): one whose `:authority`
 * holds a scheme (etcdctl's `--endpoints=http://…`), which nghttp2 refuses, is handed on through
 * a stream that strips it.
 */
export class ClientServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly http;
  private readonly injector;

  constructor(
    private readonly grpcServer: grpc.Server,
    handler: HttpHandler,
  ) {
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
    socket.on('close', () => clearTimeout(timer ?? undefined));
    const onData = (chunk: Buffer): void => {
      head = head.byteLength === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.byteLength < 3) return;
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
        timer = setTimeout(handOn, H2_SNIFF_MS);
      }
      const start = scanClientStart(head);
      if ((start.ackAt !== null && start.firstBlock !== null) || !start.wellFormed || head.byteLength >= H2_SNIFF_BYTES) handOn();
    };
    // An HTTP/2 connection goes on once its SETTINGS ACK and first header block are in, or after
    // H2_SNIFF_MS (a connection opened ahead of its first call) or H2_SNIFF_BYTES.
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
        socket.unshift(withoutFrame(head, start.ackAt));
        this.injector.injectConnection(socket);
      } else {
        // The slow path (etcdctl's one-shot calls to `http://…` endpoints): a rewriting stream.
        const stream = rewritingStream(socket, new AuthorityRewriter(true), head);
        stream.on('error', () => stream.destroy());
        this.injector.injectConnection(stream);
      }
    };
    socket.on('data', onData);
  }
}
