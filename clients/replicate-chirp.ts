/**
 * Track every prediction without touching every call: wraps a Replicate JS client (the
 * `replicate` npm package) so that `predictions.create`, `run`, `stream`,
 * `deployments.predictions.create` and `trainings.create` always carry Chirp's `webhook` and
 * `webhook_events_filter`.
 *
 *   import Replicate from "replicate";
 *   import { withChirp } from "./replicate-chirp";
 *   const replicate = withChirp(new Replicate(), { webhookUrl: process.env.CHIRP_WEBHOOK_URL! });
 *   await replicate.run("black-forest-labs/flux-schnell", { input: { prompt: "…" } }); // a card appears
 *
 * Typed structurally, so it does not depend on the `replicate` package (or its version): any
 * object with those methods works, and everything else passes through untouched. A call that
 * sets its own `webhook` keeps it (Replicate takes one webhook per prediction), and its own
 * `webhook_events_filter` too. The wrapped client is a view: the original is not modified.
 */

/** Every event Chirp uses: `start` shows the card, `output`/`logs` update it, `completed` ends it. */
export const CHIRP_WEBHOOK_EVENTS = ['start', 'output', 'logs', 'completed'] as const;

export type WebhookEvent = (typeof CHIRP_WEBHOOK_EVENTS)[number];

export interface ChirpOptions {
  /** The inspector's webhook URL (`…/v1/webhooks/replicate?key=chirp_wh_…`). */
  webhookUrl: string;
  /** Default: all four. `["start", "completed"]` gives a card with only a start and an end. */
  events?: readonly WebhookEvent[];
}

type AnyFunction = (...args: never[]) => unknown;

/** The parts of a Replicate client that create jobs (all optional: wrap what is there). */
export interface ReplicateLike {
  run?: AnyFunction;
  stream?: AnyFunction;
  predictions?: { create?: AnyFunction };
  deployments?: { predictions?: { create?: AnyFunction } };
  trainings?: { create?: AnyFunction };
}

/** Which argument carries the options object, per method (replicate-javascript's signatures). */
const OPTIONS_AT = {
  run: 1, // run(ref, options, progress?)
  stream: 1, // stream(ref, options)
  predictionsCreate: 0, // predictions.create(options)
  deploymentsPredictionsCreate: 2, // deployments.predictions.create(owner, name, options)
  trainingsCreate: 3, // trainings.create(owner, name, versionId, options)
} as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function withChirp<T extends ReplicateLike>(replicate: T, options: ChirpOptions): T {
  if (!/^https:\/\/|^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(options.webhookUrl)) {
    // Replicate only calls https URLs; plain http is fine for a local simulator.
    throw new Error('withChirp: webhookUrl must be an https:// URL (the inspector\'s webhook URL).');
  }
  const events = [...(options.events ?? CHIRP_WEBHOOK_EVENTS)];

  const inject = (args: unknown[], index: number): unknown[] => {
    const given = args[index];
    if (given !== undefined && !isPlainObject(given)) return args; // not an options object: leave the call alone
    const current = given ?? {};
    if (current.webhook !== undefined) return args; // the caller chose a webhook
    const next = [...args];
    next[index] = { ...current, webhook: options.webhookUrl, webhook_events_filter: current.webhook_events_filter ?? events };
    return next;
  };

  /** `target[name]` called with its own `this`, with the options argument completed. */
  const wrap = (target: object, fn: unknown, index: number): unknown =>
    typeof fn === 'function' ? (...args: unknown[]) => (fn as (...a: unknown[]) => unknown).apply(target, inject(args, index)) : fn;

  /** A view of `namespace` whose listed methods inject; everything else reads through. */
  const view = <N extends object>(namespace: N | undefined, methods: Record<string, (target: object) => unknown>): N | undefined => {
    if (!isPlainObject(namespace) && typeof namespace !== 'function') return namespace;
    return new Proxy(namespace as N, {
      get(target, property, receiver) {
        const make = typeof property === 'string' ? methods[property] : undefined;
        return make ? make(target) : Reflect.get(target, property, receiver);
      },
    });
  };

  return new Proxy(replicate, {
    get(target, property, receiver) {
      switch (property) {
        case 'run':
          return wrap(target, target.run, OPTIONS_AT.run);
        case 'stream':
          return wrap(target, target.stream, OPTIONS_AT.stream);
        case 'predictions':
          return view(target.predictions, { create: (ns) => wrap(ns, (ns as { create?: unknown }).create, OPTIONS_AT.predictionsCreate) });
        case 'trainings':
          return view(target.trainings, { create: (ns) => wrap(ns, (ns as { create?: unknown }).create, OPTIONS_AT.trainingsCreate) });
        case 'deployments':
          return view(target.deployments, {
            predictions: (ns) =>
              view((ns as { predictions?: object }).predictions, { create: (p) => wrap(p, (p as { create?: unknown }).create, OPTIONS_AT.deploymentsPredictionsCreate) }),
          });
        default:
          return Reflect.get(target, property, receiver);
      }
    },
  });
}
