/**
 * Request schemas (zod). The same objects validate requests and generate the OpenAPI document,
 * so the two cannot disagree.
 */
import { z } from 'zod';

const hexToken = z.string().regex(/^[0-9a-fA-F]{32,400}$/, 'must be a hex push token (32–400 hex characters)');

export const deviceCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(80),
    environment: z.enum(['sandbox', 'production']),
    pushToStartToken: hexToken.optional(),
    frequentPushesEnabled: z.boolean().optional(),
  })
  .strict();

export const deviceUpdateSchema = z
  .object({
    name: z.string().trim().min(1).max(80).optional(),
    pushToStartToken: hexToken.nullable().optional(),
    frequentPushesEnabled: z.boolean().optional(),
  })
  .strict();

export const activityTokenSchema = z.object({ token: hexToken }).strict();
