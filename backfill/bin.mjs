#!/usr/bin/env node
// The `crossmodal-backfill` command: the TypeScript CLI, run through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
