/** The one error type that leaves src/cluster: what was attempted, on what, and what to try. */
export interface ClusterErrorDetails {
  /** create, delete, read, replace, exec, wait, connect, … */
  verb: string;
  /** Namespace, Pod, NetworkPolicy, … */
  kind: string;
  namespace?: string;
  name?: string;
  /** HTTP status of the API answer, when there was one. */
  httpCode?: number;
  /** What a person can do about it. */
  hint?: string;
}

export class ClusterError extends Error {
  readonly verb: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly objectName: string | undefined;
  readonly httpCode: number | undefined;
  readonly hint: string | undefined;

  constructor(message: string, details: ClusterErrorDetails, options?: { cause?: unknown }) {
    const target = [details.kind, [details.namespace, details.name].filter(Boolean).join('/')]
      .filter((s) => s !== '')
      .join(' ');
    const code = details.httpCode === undefined ? '' : ` (HTTP ${String(details.httpCode)})`;
    const hint = details.hint === undefined ? '' : ` — ${details.hint}`;
    super(`${details.verb} ${target}: ${message}${code}${hint}`, options);
    this.name = 'ClusterError';
    this.verb = details.verb;
    this.kind = details.kind;
    this.namespace = details.namespace;
    this.objectName = details.name;
    this.httpCode = details.httpCode;
    this.hint = details.hint;
  }
}

interface ApiLikeError {
  code?: unknown;
  body?: unknown;
  message?: unknown;
  cause?: unknown;
}

function hintFor(code: number | undefined, reason: string | undefined, netCode: string): string {
  if (netCode === 'ECONNREFUSED' || netCode === 'EHOSTUNREACH' || netCode === 'ETIMEDOUT') {
    return 'is the cluster reachable? For the lab: npm run lab:status';
  }
  switch (code) {
    case 401:
      return 'the kubeconfig credentials were rejected';
    case 403:
      return 'the kubeconfig user lacks RBAC permission for this';
    case 404:
      return 'it does not exist (or its namespace does not)';
    case 409:
      return reason === 'AlreadyExists' ? 'it already exists' : 'conflict: retry';
    case 422:
      return 'the object is invalid: see the message';
    case 500:
    case 503:
      return 'the API server failed: check its log';
    default:
      return 'see the message';
  }
}

function networkCode(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return '';
}

/** API messages may quote request URLs whole (an exec URL carries the command): drop queries. */
export function shortenUrls(message: string): string {
  return message.replace(/(https?:\/\/[^\s"?]+)\?[^\s"]*/g, '$1?…');
}

/** Translate anything the Kubernetes client throws into a ClusterError. */
export function toClusterError(
  error: unknown,
  details: Omit<ClusterErrorDetails, 'httpCode' | 'hint'>,
): ClusterError {
  if (error instanceof ClusterError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as ApiLikeError;
  const httpCode = typeof e.code === 'number' ? e.code : undefined;
  let message = typeof e.message === 'string' ? e.message : String(error);
  let reason: string | undefined;
  const body: unknown = typeof e.body === 'string' ? safeJson(e.body) : e.body;
  if (typeof body === 'object' && body !== null) {
    const status = body as { message?: unknown; reason?: unknown };
    if (typeof status.message === 'string') message = status.message;
    if (typeof status.reason === 'string') reason = status.reason;
  }
  const netCode = networkCode(error);
  return new ClusterError(
    shortenUrls(message.split('\n')[0] ?? message),
    {
      ...details,
      ...(httpCode === undefined ? {} : { httpCode }),
      hint: hintFor(httpCode, reason, netCode),
    },
    { cause: error },
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
