import type { Server } from 'node:net';

/** The host part of a URL as `listen` wants it (IPv6 without brackets). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Binds `server` to a URL's host and port; resolves once bound, rejects with the bind error (EADDRINUSE, ...). */
export function listenOn(server: Server, url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(url.port), hostOf(url), () => {
      server.off('error', reject);
      resolve();
    });
  });
}
