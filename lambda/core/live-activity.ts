/**
 * The card contract with the iOS app (ARCHITECTURE §2.2) and the APNs request shape (§2.3).
 * ActivityKit decodes these with default Codable strategies: flat JSON, epoch seconds as numbers.
 */

/** Job states on the card. `expired` is ours: the sweeper ended a card that went silent. */
export type CardStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted' | 'expired';

export const ATTRIBUTES_TYPE = 'ChirpJobAttributes';

export interface CardAttributes {
  activityId: string;
  provider: 'replicate';
  jobId: string;
  model: string;
  inspector: string;
  webUrl: string;
}

export interface ContentState {
  status: CardStatus;
  /** Epoch seconds the elapsed timer counts from (started_at, else created_at). */
  startedAt: number;
  createdAt: number;
  endedAt?: number;
  /** 0…1, from a tqdm-style progress bar in the logs. */
  progress?: number;
  /** ≤ ~120 chars: output tail, "2 images", or the first line of an error. Never prompts or inputs. */
  detail?: string;
  predictTime?: number;
  /** First line of the error, for failed jobs. */
  error?: string;
}

export type PushKind = 'start' | 'update' | 'end';

export interface ApnsAlert {
  title: string;
  body: string;
  sound?: string;
}

export interface ApnsPayload {
  aps: {
    timestamp: number;
    event: PushKind;
    'content-state': ContentState;
    'attributes-type'?: typeof ATTRIBUTES_TYPE;
    attributes?: CardAttributes;
    alert?: ApnsAlert;
    'stale-date'?: number;
    'dismissal-date'?: number;
    'input-push-token'?: 1;
  };
}

export interface ApnsHeaders {
  'apns-push-type': 'liveactivity';
  'apns-topic': string;
  'apns-priority': '5' | '10';
  /** Epoch seconds after which APNs drops the push instead of storing it. */
  'apns-expiration': string;
}

/** APNs hard limit for the JSON body. */
export const MAX_PAYLOAD_BYTES = 4096;

export function liveActivityTopic(bundleId: string): string {
  return `${bundleId}.push-type.liveactivity`;
}
