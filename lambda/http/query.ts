/**
 * Query strings, validated with a zod schema like bodies are: the first problem becomes a 400
 * that names the parameter. A parameter given twice is an error rather than a silent pick.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ValidationError } from '../core/errors';

export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const raw: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) throw new ValidationError(`${name}: give this parameter once`, name);
    if (values[0] !== undefined && values[0] !== '') raw[name] = values[0];
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined);
    const message = issue.code === 'unrecognized_keys' ? `unknown query parameter ${issue.keys.join(', ')}` : issue.message;
    throw new ValidationError(field ? `${field}: ${message}` : message, field);
  }
  return result.data;
}
