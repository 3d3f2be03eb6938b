// Placeholder while the core lands; replaced by the real composition root.
export const handler = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 503, body: '{"error":{"code":"not_ready","message":"not ready"}}' });
