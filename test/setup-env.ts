// Keeps test output readable: the AWS SDK warns under Node 20 that its releases after January
// 2027 need Node 22 (the lock file pins this release).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
