import type { Command } from 'commander';

// Placeholder until its owner lands the real command; registered so the CLI stays whole meanwhile.
export function registerModelsCommand(_program: Command): void {}
