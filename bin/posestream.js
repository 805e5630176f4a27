#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader: one source of truth, no build step to drift.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
