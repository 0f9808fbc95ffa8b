// The Docker Engine API client, shared by the docker backend and the docker builder.
export { API_VERSION, DockerEngine, readAll, type DockerEngineOptions, type QueryValue, type RequestOptions } from './engine.js';
export { EngineError, EngineProtocolError, EngineUnreachableError } from './errors.js';
export { DEFAULT_SOCKET, DockerHostError, parseDockerHost, type DockerEnv, type DockerHost, type DockerTls } from './host.js';
export { demux, jsonLines, type DemuxFrame, type DemuxStream } from './streams.js';
