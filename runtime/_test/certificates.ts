import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchFolder } from './scratch.ts';

export interface TestCertificates {
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A throwaway CA and one certificate for 127.0.0.1/localhost, good as server and client (openssl), in a scratch folder (removed with the test process: it was left behind). */
export function makeCertificates(): TestCertificates {
  const dir = scratchFolder('detcd-tls-');
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=detcd test CA', '-days', '2');
  openssl('req', ...ec, '-keyout', 'member.key', '-out', 'member.csr', '-subj', '/CN=detcd member');
  writeFileSync(join(dir, 'extensions.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', 'member.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'member.crt', '-days', '2', '-extfile', 'extensions.cnf');
  return { dir, ca: join(dir, 'ca.crt'), cert: join(dir, 'member.crt'), key: join(dir, 'member.key') };
}
