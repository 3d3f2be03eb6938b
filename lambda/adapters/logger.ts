/**
 * Structured JSON logs (Powertools Logger): one line per event, request ids attached through
 * child loggers (safe with concurrent requests in the local server). Level from
 * POWERTOOLS_LOG_LEVEL (or LOG_LEVEL); keys, tokens and secrets are never passed to it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../core/log';
import type { RequestLogger } from '../http/context';

function wrap(logger: Logger): RequestLogger {
  return {
    debug: (message, extra) => (extra ? logger.debug(message, extra) : logger.debug(message)),
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
    child: (keys): Log => wrap(logger.createChild({ persistentKeys: keys })),
  };
}

export function createLogger(serviceName: string, logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT'): RequestLogger {
  return wrap(new Logger({ serviceName, ...(logLevel ? { logLevel } : {}) }));
}
