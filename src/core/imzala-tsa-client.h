/* imzala-tsa-client.h: an RFC 3161 time-stamp client over HTTPS (libsoup 3).
 *
 * A CAdES-T signature carries a time-stamp token over its SignerInfo's
 * signature value. ImzalaTsaClient asks a time-stamp authority for one: it
 * builds the query (a SHA-256 message imprint of the bytes given, a random
 * 64-bit nonce, certReq TRUE so that the TSA's certificate travels in the
 * token), POSTs it as application/timestamp-query, and checks the reply
 * before it returns the token: status granted, the nonce and the imprint
 * asked for, the token's signature with the certificate in it, and that
 * certificate's critical extended key usage timeStamping. Whether the TSA is
 * trusted is a verifier's decision (imzala-timestamp), not the client's.
 *
 * HTTPS only, verified like the portal client: the system trust store, or
 * the extra CA file given at construction (the reference portal serves its
 * TSA from its own origin, under the portal's CA). The answer is capped at
 * IMZALA_TSA_CLIENT_MAX_RESPONSE while it is read and the whole exchange at
 * the timeout (total time, not per read). Use the object from the thread
 * (main context) that made it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMZALA_TSA_CLIENT_MAX_RESPONSE (256 * 1024)
#define IMZALA_TSA_CLIENT_TIMEOUT_SECONDS 30

#define IMZALA_TYPE_TSA_CLIENT (imzala_tsa_client_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaTsaClient, imzala_tsa_client, IMZALA, TSA_CLIENT, GObject)

/* @url: the TSA's absolute https:// URL. Fails with IMZALA_ERROR_INSECURE_URL
 * for any other scheme (before any connection), IMZALA_ERROR_TIMESTAMP for a
 * URL that cannot be parsed, and IMZALA_ERROR_TLS when @extra_ca_file (PEM,
 * nullable) cannot be read. */
ImzalaTsaClient *imzala_tsa_client_new         (const char       *url,
                                                const char       *extra_ca_file,
                                                GError          **error);
const char      *imzala_tsa_client_get_url     (ImzalaTsaClient  *self);
/* The CA trusted besides the system store (from @extra_ca_file), or NULL.
 * X-L uses it for the https status services too (imzala-cades-extend.c). */
GTlsDatabase    *imzala_tsa_client_get_extra_database (ImzalaTsaClient *self);
/* The longest the whole exchange may take, in seconds (default 30). */
void             imzala_tsa_client_set_timeout (ImzalaTsaClient  *self,
                                                guint             seconds);

/* Asks for a time-stamp token over SHA-256(@data). The result is the token
 * (a DER ContentInfo holding a SignedData over a TSTInfo), checked as the
 * header says. Errors: IMZALA_ERROR_TIMESTAMP (the TSA cannot be reached,
 * refused, or answered something that is refused), IMZALA_ERROR_TLS,
 * G_IO_ERROR_CANCELLED. */
void             imzala_tsa_client_stamp_async  (ImzalaTsaClient     *self,
                                                 GBytes              *data,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GBytes          *imzala_tsa_client_stamp_finish (ImzalaTsaClient     *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* The two halves without the network, pure functions over bytes (tests and
 * fuzzing use them). build_query() returns the DER TimeStampReq over
 * SHA-256(@data) with a fresh random nonce. check_reply() checks @reply
 * (a DER TimeStampResp) against @query and returns the token. */
GBytes          *imzala_tsa_client_build_query  (GBytes              *data,
                                                 GError             **error);
GBytes          *imzala_tsa_client_check_reply  (GBytes              *query,
                                                 GBytes              *reply,
                                                 GError             **error);

G_END_DECLS
