/**
 * Errors as the API answers them: RFC 9457 problem details (`application/problem+json`) carrying the project's
 * error code (README "Error codes"), with the HTTP status that code implies. One table, one error handler.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asRedisError, codeOf, errorMessage, type ErrorCode, ProfileStreamError } from '@profile-stream/consumer-kit';

export const PROBLEM_TYPE = 'application/problem+json';

/** The status of each code an API answer can carry (anything else is a 500). */
export const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  invalid_ref: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  profile_erased: 404,
  rate_limited: 429,
  dependency_unavailable: 503,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// No `instance`: the path can hold an e-mail or a phone number, and problems end up in logs and in bug reports.
export function problem(code: ErrorCode | undefined, status: number, detail: string): Problem {
  return { type: code ? `urn:profile-stream:error:${code}` : 'about:blank', title: TITLES[status] ?? 'Error', status, detail, ...(code ? { code } : {}) };
}

/** An error the API raises on purpose: a code of STATUS_OF. */
export function apiError(code: ErrorCode, message: string): ProfileStreamError {
  return new ProfileStreamError(code, message);
}

/** The problem for any error a route or a hook threw. */
export function problemOf(err: unknown): Problem {
  const fe = err as Partial<FastifyError> & { validation?: unknown };
  if (fe.validation) return problem('invalid_request', 400, fe.message ?? 'invalid request');
  if (err instanceof ProfileStreamError) {
    const code = err.code as ErrorCode;
    const status = STATUS_OF[code];
    if (status) return problem(code, status, err.message);
  }
  // Fastify's own 4xx (a body too large, a bad content type, …) keep their status; their message names the problem.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return problem('invalid_request', fe.statusCode, fe.message ?? 'invalid request');
  }
  const redis = asRedisError(err);
  if (codeOf(redis) === 'dependency_unavailable' && isRedisTrouble(err)) return problem('dependency_unavailable', 503, errorMessage(redis));
  return problem(undefined, 500, 'internal error');
}

/** Connection trouble of ioredis (closed, refused, timed out, transient replies): worth a 503, not a 500. */
function isRedisTrouble(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ReplyError') return asRedisError(err) !== err;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Stream isn't writeable|enableOfflineQueue/.test(err.message) ||
    codeOf(err) === 'dependency_unavailable'
  );
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type(PROBLEM_TYPE).send(p);
}

/** Fastify's error handler: every failure answers problem+json; 5xx are logged with the error. */
export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const p = problemOf(err);
  if (p.status === 503) req.log.warn({ err: p.detail }, 'dependency unavailable');
  else if (p.status >= 500) req.log.error({ err }, 'request failed');
  return sendProblem(reply, p);
}
