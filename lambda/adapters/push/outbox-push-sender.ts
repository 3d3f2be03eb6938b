/**
 * Local mode's transport: every push that would reach the phone becomes one JSON line in
 * `$CHIRP_DATA_DIR/outbox.jsonl` (ARCHITECTURE §2.3), with the exact APNs headers and payload.
 */
import { appendFile } from 'node:fs/promises';
import type { PushMessage, PushResult, PushSender } from '../../core/push-port';

export interface OutboxLine {
  at: string;
  transport: 'outbox';
  activityId: string;
  jobId: string;
  kind: PushMessage['kind'];
  target: PushMessage['target'];
  headers: PushMessage['headers'];
  payload: PushMessage['payload'];
  bytes: number;
}

export function createOutboxPushSender(options: { file: string; clock: () => number; onLine?: (line: OutboxLine) => void }): PushSender {
  let sequence = 0;
  return {
    transport: 'outbox',
    async send(message: PushMessage): Promise<PushResult> {
      const line: OutboxLine = {
        at: new Date(options.clock()).toISOString(),
        transport: 'outbox',
        activityId: message.activityId,
        jobId: message.jobId,
        kind: message.kind,
        target: message.target,
        headers: message.headers,
        payload: message.payload,
        bytes: Buffer.byteLength(JSON.stringify(message.payload)),
      };
      // O_APPEND writes of one line are not interleaved between concurrent sends.
      await appendFile(options.file, `${JSON.stringify(line)}\n`, 'utf8');
      sequence += 1;
      options.onLine?.(line);
      return { outcome: 'sent', transport: 'outbox', id: `outbox-${sequence}` };
    },
  };
}
