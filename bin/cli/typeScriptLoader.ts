/** Set to true by the compiled build (bin/compiledCli.mjs); undefined when run from source. */
declare const DETCD_SIM_COMPILED: boolean | undefined;

let registered = false;

/**
 * Makes sure `.ts` files can be imported at run time — a patched copy of the sources for a mutant.
 * Loaded from source, tsx already does it; compiled, tsx's loader is registered now, once.
 */
export async function ensureTypeScriptLoader(): Promise<void> {
  if (registered || typeof DETCD_SIM_COMPILED === 'undefined') return;
  registered = true;
  const { register } = await import('tsx/esm/api');
  register();
}
