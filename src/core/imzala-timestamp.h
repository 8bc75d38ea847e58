/* imzala-timestamp.h: checking RFC 3161 time-stamp tokens.
 *
 * A token (a CMS SignedData over a TSTInfo) proves that some data existed
 * at its genTime. It counts when its messageImprint is the hash of that
 * data, its signature verifies with the TSA's certificate, that certificate
 * is for time-stamping only (critical extended key usage timeStamping), was
 * valid at genTime and chains to a trusted certificate at genTime. Making
 * tokens (the TSA client) is imzala-tsa-client.c's job; this file only
 * checks them.
 */
#pragma once

#include <gio/gio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "imzala-trust.h"

G_BEGIN_DECLS

typedef struct
{
  GDateTime *time;      /* genTime */
  X509      *tsa;       /* the TSA's certificate, owned */
  char      *policy;    /* the TSA policy OID, dotted */
  char      *digest;    /* the imprint's hash algorithm, e.g. "SHA256" */
  /* The TSA's chain as it was checked at genTime: the TSA's certificate
   * first, the trust anchor last; owned. The caller checks the status of
   * each certificate but the anchor (imzala-verifier.c). */
  STACK_OF (X509) *chain;
} ImzalaTimestamp;

void imzala_timestamp_free (ImzalaTimestamp *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaTimestamp, imzala_timestamp_free)

/* Checks the DER token @token over @data (@size bytes) with @trust (AIA
 * caIssuers fetched when the trust allows it) and @extra (more untrusted
 * certificates, e.g. a signature's certificate-values; nullable). Errors:
 * CMS_INVALID (not a token), CONTENT_MISMATCH (the imprint is not of
 * @data), CERTIFICATE_EXPIRED (the TSA's certificate was not valid at
 * genTime), SIGNATURE_INVALID, UNTRUSTED (no chain to @trust). */
ImzalaTimestamp *imzala_timestamp_verify (GBytes          *token,
                                          const guint8    *data,
                                          gsize            size,
                                          ImzalaTrust     *trust,
                                          STACK_OF (X509) *extra,
                                          GCancellable    *cancellable,
                                          GError         **error);

/* The hash algorithm of @token's messageImprint, when it is one a token
 * may use (SHA-256, -384, -512); NULL when the token cannot be read or
 * uses another. A verifier that streams the data hashes it with this. */
const EVP_MD    *imzala_timestamp_get_imprint_md (GBytes *token);

/* imzala_timestamp_verify() with the hash of the data instead of the data:
 * @digest (@digest_size bytes) is the data's hash under the token's own
 * imprint algorithm (imzala_timestamp_get_imprint_md()). */
ImzalaTimestamp *imzala_timestamp_verify_digest (GBytes          *token,
                                                 const guint8    *digest,
                                                 gsize            digest_size,
                                                 ImzalaTrust     *trust,
                                                 STACK_OF (X509) *extra,
                                                 GCancellable    *cancellable,
                                                 GError         **error);

G_END_DECLS
