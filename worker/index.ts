// The worker's entry point (wrangler.toml `main`).
import { z } from 'zod';
import { createApp } from './app.ts';

// Workers forbid eval, which zod would otherwise probe for on first use.
z.config({ jitless: true });

export default createApp();

export type { Env } from './config.ts';
