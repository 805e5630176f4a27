import type { Command } from 'commander';

/** `posestream bench faults`: see cli/bench/faults/scenarios.ts. */
export function registerBench(bench: Command): void {
  bench
    .command('faults')
    .description('fault scenarios (Redis down/killed/emptied/full, kill -9 of each role, RTSP down, REST during an outage, ...) against private Redis and gateway ports: recovery time and missing/duplicated lossless results')
    .option('--model <file>', 'model for the inference worker (default: the converted FP32 model in build/models)')
    .option('--only <names>', 'comma-separated scenario names')
    .option('--json', 'print {"scenarios":[...]} as JSON')
    .action(async (options: { model?: string; only?: string; json?: boolean }) => {
      const { defaultModelPaths } = await import('../../pipeline/assets.js');
      const { runFaults, formatFaults } = await import('../bench/faults/run.js');
      const report = await runFaults({
        model: options.model ?? defaultModelPaths.fp32,
        ...(options.only ? { only: options.only.split(',').map((name) => name.trim()).filter(Boolean) } : {}),
        onOutcome: (outcome) => process.stderr.write(`${outcome.name}: ${outcome.ok ? 'ok' : 'FAIL'} (${outcome.note})\n`),
      });
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${formatFaults(report)}\n`);
      process.exitCode = report.scenarios.every((s) => s.ok) ? 0 : 1;
    });
}
