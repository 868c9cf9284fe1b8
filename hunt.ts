import { mutations } from './properties/mutations/catalogue.ts';
import { huntMutant } from './properties/mutations/patchedCopy.ts';
for (const m of mutations.filter((m) => process.argv.length < 4 || process.argv.slice(3).includes(m.name))) {
  const t = performance.now();
  const v = await huntMutant(m, Number(process.argv[2] ?? 20));
  console.log(m.name, v.caughtBy ? `caught by ${v.caughtBy.scenario} seed ${v.caughtBy.seed} after ${v.runs} runs: ${v.caughtBy.violation.slice(0, 150)}` : `NOT caught in ${v.runs} runs`, Math.round(performance.now() - t), 'ms');
}
