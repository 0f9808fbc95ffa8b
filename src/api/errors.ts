// The refusals the service and the HTTP client both make, worded once so the two cannot drift.
import { ApiError } from '../client/types.js';
import type { ErrorDetail } from '../spec/api.js';

export function invalidJob(errors: readonly ErrorDetail[]): ApiError {
  return new ApiError('invalid', 'the job file is invalid', errors.map((e) => ({ path: e.path, message: e.message })));
}

/** A bad parameter of a request (query, path, limit). */
export function invalidRequest(details: ErrorDetail[]): ApiError {
  return new ApiError('invalid', 'the request is invalid', details);
}

export function noJob(id: string): ApiError {
  return new ApiError('not_found', `no job "${id}"`);
}

export function noTask(jobId: string, task: string): ApiError {
  return new ApiError('not_found', `no task "${task}" in job "${jobId}"`);
}
