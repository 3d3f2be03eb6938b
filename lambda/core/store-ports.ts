/**
 * What the core needs from storage. The DynamoDB adapters implement these; tests run them
 * against dynalite, the same protocol as the service.
 */
import type { ActivityRecord } from './activity';
import type { InferredEvent } from './replicate-payload';
import type { CardStatus, PushKind } from './live-activity';
import type { ApnsEnvironment, PushResult } from './push-port';
import type { StartBudget, StartBudgetDecision } from './start-pacing';

export interface Inspector {
  id: string;
  name: string;
  deviceIds: string[];
  /** Replicate signing secrets (`whsec_…`); write-only through the API. */
  signingSecrets: string[];
  /** Replicate API token for reconciliation; write-only through the API. */
  replicateApiToken?: string;
  /** Minutes without any event before a card ends as `expired`; undefined = the default for the job kind. */
  hangTimeoutMinutes?: number;
  coalesceSeconds: number;
  retentionDays: number;
  keepLast: number;
  createdAt: number;
  /** Non-secret prefix of the current key, for people to recognise it. */
  keyHint: string;
  /** Hashes of the keys that route to this inspector (current and rotated-out), so revoking can delete them. */
  keyHashes: string[];
  revokedAt?: number;
}

export interface Device {
  id: string;
  name: string;
  environment: ApnsEnvironment;
  pushToStartToken?: string;
  frequentPushesEnabled: boolean;
  /** SHA-256 of the device credential. */
  secretHash: string;
  createdAt: number;
  /** Simulated devices (local mode) report update tokens by themselves. */
  simulated?: boolean;
}

export interface WebhookKeyEntry {
  inspectorId: string;
  /** Epoch s after which a rotated-out key stops working; absent for the current key. */
  validUntil?: number;
}

export type EventOutcome = 'applied' | 'duplicate' | 'stale' | 'rejected' | 'reconciled' | 'expired' | 'flushed' | 'token';

export interface PushRecord {
  deviceId: string;
  kind: PushKind;
  outcome: PushResult['outcome'];
  transport: PushResult['transport'];
  reason?: string;
  status?: number;
}

/** One line of an inspector's recent-events log. Kept under ~1 KB (one write unit). */
export interface EventEntry {
  inspectorId: string;
  /** Epoch ms. */
  at: number;
  /** `feedback`: SNS reported a delivery failure after the push had been accepted (push-feedback handler). */
  source: 'webhook' | 'sweeper' | 'api' | 'feedback';
  webhookId?: string;
  /** webhook-timestamp as sent, when signed. */
  webhookTimestamp?: number;
  jobId?: string;
  activityId?: string;
  status?: string;
  event?: InferredEvent;
  outcome: EventOutcome;
  reason?: string;
  transition?: { from: CardStatus | null; to: CardStatus };
  pushes: PushRecord[];
  /** The body without `input`, size-capped. */
  body?: string;
  requestId?: string;
}

export interface Versioned<T> {
  value: T;
  version: number;
}

export interface Page<T> {
  items: T[];
  cursor?: string;
}

export interface ActivityStore {
  get(activityId: string): Promise<Versioned<ActivityRecord> | null>;
  /** Conditional write: `expectedVersion` null means "must not exist yet". Returns the new version; throws ConcurrentUpdateError on a lost race. */
  put(activity: ActivityRecord, expectedVersion: number | null, options?: { retentionDays?: number }): Promise<number>;
  appendEvent(entry: EventEntry, retentionDays: number): Promise<void>;
  listEvents(inspectorId: string, options: { limit: number; cursor?: string }): Promise<Page<EventEntry>>;
  listActivities(inspectorId: string, options: { limit: number; cursor?: string }): Promise<Page<ActivityRecord>>;
  /** Activities whose `dueAt` ≤ `dueBefore`, oldest due first, through the sparse sweep index. */
  listDue(dueBefore: number, options: { limit: number; cursor?: string }): Promise<Page<string>>;
}

export interface KeyStore {
  findWebhookKey(keyHash: string): Promise<WebhookKeyEntry | null>;
  getInspector(id: string): Promise<Inspector | null>;
  getDevices(ids: readonly string[]): Promise<Device[]>;
  putWebhookKey(keyHash: string, entry: WebhookKeyEntry): Promise<void>;
  deleteWebhookKey(keyHash: string): Promise<void>;
  putInspector(inspector: Inspector): Promise<void>;
  listInspectors(options: { limit: number; cursor?: string }): Promise<Page<Inspector>>;
  putDevice(device: Device): Promise<void>;
  getDevice(id: string): Promise<Device | null>;
  /** Device credentials are looked up by hash, like webhook keys. */
  findDeviceCredential(secretHash: string): Promise<string | null>;
  putDeviceCredential(secretHash: string, deviceId: string): Promise<void>;
  deleteDeviceCredential(secretHash: string): Promise<void>;
  listDevices(options: { limit: number; cursor?: string }): Promise<Page<Device>>;
  deleteDevice(id: string): Promise<void>;
  /** Forgets a push-to-start token Apple retired, unless the app already sent a new one. */
  retirePushToStartToken(deviceId: string, token: string): Promise<void>;
  /**
   * Takes one start from the device's rolling push-to-start budget (lambda/core/start-pacing.ts):
   * one conditional write, called only right before a start push. `now` is epoch s.
   */
  consumePushToStartBudget(deviceId: string, now: number, budget: StartBudget): Promise<StartBudgetDecision>;
}
