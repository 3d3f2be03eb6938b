/**
 * Request bodies: JSON parsed once, validated with a zod schema; the first problem becomes a
 * 400 that names the field.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ChirpError, ValidationError } from '../core/errors';

export async function parseJsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ChirpError('invalid_json', 'The body is not valid JSON.');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join('.') || undefined;
    throw new ValidationError(field ? `${field}: ${issue.message}` : issue.message, field);
  }
  return result.data;
}
