/**
 * The push port: the core decides *what* to push; an adapter (outbox file, SNS, direct APNs)
 * decides *how*. Adapters never throw for an answer from Apple or SNS; they classify it.
 */
import type { ApnsHeaders, ApnsPayload, PushKind } from './live-activity';

export type ApnsEnvironment = 'sandbox' | 'production';

export interface PushTarget {
  deviceId: string;
  environment: ApnsEnvironment;
  /** Hex token: the device's push-to-start token for `start`, the activity's update token otherwise. */
  token: string;
  tokenKind: 'push-to-start' | 'update';
}

export interface PushMessage {
  activityId: string;
  jobId: string;
  kind: PushKind;
  target: PushTarget;
  headers: ApnsHeaders;
  payload: ApnsPayload;
}

/**
 * What happened to one push:
 * - `sent`: accepted by the transport (APNs 200, SNS MessageId, outbox line written).
 * - `retire-token`: the token is dead (APNs 410 Unregistered/ExpiredToken, 400 BadDeviceToken,
 *   SNS EndpointDisabled); never push to it again.
 * - `retry-later`: transient (429, 5xx, timeouts, throttling); the state stays pending.
 * - `fix-config`: our request or configuration is wrong (bad topic, bad key, payload too large); retrying will not help.
 */
export type PushResult =
  | { outcome: 'sent'; transport: PushTransportName; id?: string }
  | { outcome: 'retire-token'; transport: PushTransportName; reason: string; status?: number }
  | { outcome: 'retry-later'; transport: PushTransportName; reason: string; status?: number; retryAfterSeconds?: number }
  | { outcome: 'fix-config'; transport: PushTransportName; reason: string; status?: number };

export type PushTransportName = 'outbox' | 'sns' | 'apns';

export interface PushSender {
  readonly transport: PushTransportName;
  send(message: PushMessage): Promise<PushResult>;
  /** Forget anything kept for a token that is no longer used (SNS endpoints); optional. */
  release?(target: PushTarget): Promise<void>;
  close?(): Promise<void>;
}
