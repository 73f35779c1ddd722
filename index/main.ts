// npm run index:serve — the local Vectorize-compatible index service.
// Settings: index/config.ts (docs/configuration.md lists them).
import pino from 'pino';
import { loadIndexSettings } from './config.ts';
import { startIndexServer } from './server.ts';

let settings;
try {
  settings = loadIndexSettings(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

const server = await startIndexServer({ ...settings, logger: pino({ level: settings.logLevel }) });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal: stop waiting
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
