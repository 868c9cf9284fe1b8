// Loads the CLI fast: the TypeScript sources compiled into one ES module by esbuild, cached under
// node_modules/.cache/detcd-sim and rebuilt whenever a source it was built from changes (the cache
// key is a hash of every input file's content, the Node and esbuild versions and the checkout's
// path). Transpiling ~150 files through tsx's loader on every start cost 0.4-1 s (more on a busy
// machine, and again in every sweep worker); a cache hit costs hashing the inputs, a few ms.
//
// Plain JavaScript: it runs before any TypeScript loader. DETCD_SIM_FROM_SOURCE=1 skips the cache
// and loads the sources through tsx; DETCD_SIM_DEBUG=1 says why a build was not used.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'bin', 'detcd-sim.ts');
const cacheDir = join(root, 'node_modules', '.cache', 'detcd-sim');
const bundlePath = join(cacheDir, 'detcd-sim.mjs');
const manifestPath = join(cacheDir, 'manifest.json');

/** Registers tsx's loader: for the sources themselves, or for patched copies a command imports. */
export async function registerTypeScript() {
  const { register } = await import('tsx/esm/api');
  register();
}

/** The CLI module: from the cache when it is fresh, else built now; from the sources if building fails. */
export async function importCli() {
  if (process.env.DETCD_SIM_FROM_SOURCE === '1') return importFromSource();
  let bundle;
  try {
    bundle = await freshBundle();
  } catch (error) {
    if (process.env.DETCD_SIM_DEBUG === '1') process.stderr.write(`detcd-sim: no compiled build (${error instanceof Error ? error.message : error}); loading the sources\n`);
    return importFromSource();
  }
  return import(pathToFileURL(bundle).href);
}

async function importFromSource() {
  await registerTypeScript();
  return import(pathToFileURL(entry).href);
}

function cacheKey(inputs, esbuildVersion) {
  const hash = createHash('sha256');
  hash.update(`${process.version}\0${esbuildVersion}\0${root}\0`);
  for (const input of inputs) hash.update(`${input}\0`).update(readFileSync(join(root, input))).update('\0');
  return hash.digest('hex');
}

/** The bundle's path, rebuilt first when any of its inputs changed. */
async function freshBundle() {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.key === cacheKey(manifest.inputs, manifest.esbuild)) return bundlePath;
  } catch {
    // No cache yet, or an input is gone: build.
  }
  return build();
}

async function build() {
  const esbuild = createRequire(import.meta.url)('esbuild');
  mkdirSync(cacheDir, { recursive: true });
  // Written under a name of its own and renamed: processes starting together (sweep workers) may
  // build at once, and none may read a half-written file.
  const temporary = join(cacheDir, `build-${process.pid}`);
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: join(temporary, 'detcd-sim.mjs'),
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    banner: { js: '// Built by bin/compiledCli.mjs from the TypeScript sources; rebuilt when they change.' },
    plugins: [keepImportMetaUrl],
    // Lets the code know it runs compiled (bin/cli/typeScriptLoader.ts: patched copies need tsx).
    define: { DETCD_SIM_COMPILED: 'true' },
  });
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/')).map((input) => relative(root, join(process.cwd(), input))).sort();
  renameSync(join(temporary, 'detcd-sim.mjs.map'), `${bundlePath}.map`);
  renameSync(join(temporary, 'detcd-sim.mjs'), bundlePath);
  writeFileSync(`${manifestPath}.${process.pid}`, JSON.stringify({ key: cacheKey(inputs, esbuild.version), esbuild: esbuild.version, inputs }));
  renameSync(`${manifestPath}.${process.pid}`, manifestPath);
  rmSync(temporary, { recursive: true, force: true });
  return bundlePath;
}

/**
 * Each module keeps its own `import.meta.url` — the repository root, the launcher a sweep spawns
 * and the mutants' copies are found from it — exactly as when it is loaded from source.
 */
const keepImportMetaUrl = {
  name: 'keep-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};
