import { existsSync } from 'node:fs';
import { PosestreamError } from '../../../pipeline/errors.js';
import { SCENARIOS, type ScenarioOutcome } from './scenarios.js';

/** `posestream bench faults`: runs the scenarios one after another and reports each (see scenarios.ts). */

export interface FaultsReport {
  scenarios: ScenarioOutcome[];
}

export interface FaultsOptions {
  model: string;
  /** Scenario names to run (default all). */
  only?: string[];
  /** Called as each scenario ends (progress on stderr). */
  onOutcome?: (outcome: ScenarioOutcome) => void;
}

export function scenarioNames(): string[] {
  return SCENARIOS.map((scenario) => scenario.name);
}

export async function runFaults(options: FaultsOptions): Promise<FaultsReport> {
  const unknown = (options.only ?? []).filter((name) => !scenarioNames().includes(name));
  if (unknown.length > 0) throw new PosestreamError('PS_BENCH_INVALID', `unknown scenario(s): ${unknown.join(', ')} (known: ${scenarioNames().join(', ')})`);
  const chosen = SCENARIOS.filter((scenario) => !options.only?.length || options.only.includes(scenario.name));
  const scenarios: ScenarioOutcome[] = [];
  for (const scenario of chosen) {
    const outcome =
      scenario.needsModel && !existsSync(options.model)
        ? { name: scenario.name, ok: false, recovery_s: null, expected: null, got: null, missing: null, duplicated: null, note: 'model not found (pass --model)' }
        : await scenario.run(options.model);
    scenarios.push(outcome);
    options.onOutcome?.(outcome);
  }
  return { scenarios };
}

export function formatFaults(report: FaultsReport): string {
  const cell = (value: number | null) => (value === null ? '-' : String(value));
  const header = ['scenario', 'recovered (s)', 'expected', 'got', 'missing', 'duplicated', 'verdict'];
  const rows = report.scenarios.map((s) => [s.name, cell(s.recovery_s), cell(s.expected), cell(s.got), cell(s.missing), cell(s.duplicated), s.ok ? 'ok' : 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const notes = report.scenarios.map((s) => `  ${s.name}: ${s.note}`);
  const passed = report.scenarios.filter((s) => s.ok).length;
  return [line(header), ...rows.map(line), '', 'notes:', ...notes, '', `${passed}/${report.scenarios.length} scenarios ok`].join('\n');
}
