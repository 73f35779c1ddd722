// npm run embedder: the embedding service, configured from the environment.
import { pino } from 'pino';
import { loadConfig } from './config.ts';
import { startEmbedder } from './server.ts';

const log = pino({ name: 'embedder', level: process.env.EMBEDDER_LOG_LEVEL || 'info' });
try {
  const embedder = await startEmbedder(loadConfig(), log);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing queued work');
    await embedder.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} catch (error) {
  log.fatal({ err: error }, (error as Error).message);
  process.exit(1);
}
