/**
 * Node.js error codes of a TLS handshake that failed: an unverified certificate or host name, or a server that does not
 * speak TLS. A connection that fails with one of them is never retried in plaintext.
 */
export const TLS_ERROR_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME|EPROTO/;
