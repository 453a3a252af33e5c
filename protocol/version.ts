/** The version of the WebSocket protocol; a client says it in `hello`, the server answers in `welcome`. */
export const PROTOCOL_VERSION = 1;

/** Protocol versions this build of the server accepts. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];
