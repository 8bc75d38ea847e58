/* imzala-cades.h: a CAdES-BES signature extended to -T and -X-L.
 *
 * What is added after the card signed goes into the SignerInfo's unsigned
 * attributes, so the card's signature stays valid: the signature-time-stamp
 * (an RFC 3161 token over the signature value, CAdES-T), then the
 * complete-certificate-references, complete-revocation-references,
 * certificate-values and revocation-values (the validation data of the
 * signer's chain, so that the signature verifies offline later; the
 * attributes of CAdES-C and -X-L, RFC 5126 §6.2, §6.3). Pure OpenSSL over
 * DER bytes, like imzala-cms.c; the network (the TSA, OCSP, CRL) belongs to
 * the callers (imzala-tsa-client.c, imzala-cert-status.c).
 */
#pragma once

#include <gio/gio.h>

#include "imzala-tsa-client.h"

G_BEGIN_DECLS

typedef enum
{
  IMZALA_CADES_LEVEL_BES,
  IMZALA_CADES_LEVEL_T,
  IMZALA_CADES_LEVEL_XL,
} ImzalaCadesLevel;

/* "BES", "T", "XL" (also "X-L"; case-insensitive). */
gboolean    imzala_cades_level_from_string (const char        *text,
                                            ImzalaCadesLevel  *level);
const char *imzala_cades_level_to_string   (ImzalaCadesLevel   level);

/* The value a signature-time-stamp covers: the signature octets of the
 * (one) SignerInfo of @cms (DER). */
GBytes *imzala_cades_get_signature_value (GBytes  *cms,
                                          GError **error);

/* @cms with @token (a DER RFC 3161 TimeStampToken over the signature value)
 * as its signature-time-stamp attribute. Refuses a token whose message
 * imprint is not the SHA-256 (or the imprint's own hash) of the signature
 * value. Errors: IMZALA_ERROR_CMS_INVALID, IMZALA_ERROR_TIMESTAMP. */
GBytes *imzala_cades_add_signature_time_stamp (GBytes  *cms,
                                               GBytes  *token,
                                               GError **error);

/* The status evidence of one certificate of the chain: a DER OCSPResponse,
 * or a DER CRL, or neither (the trust anchor). */
typedef struct
{
  GBytes *ocsp_response;
  GBytes *crl;
} ImzalaCadesRevocation;

/* @cms with the validation data of the signer's chain: @certificates (DER,
 * the CA certificates above the signer and the responders' certificates;
 * the signer's own is not repeated) as complete-certificate-references and
 * certificate-values, and @revocations (ImzalaCadesRevocation *, the
 * signer's first, then one per CA certificate) as
 * complete-revocation-references and revocation-values. */
GBytes *imzala_cades_add_validation_data (GBytes     *cms,
                                          GPtrArray  *certificates,
                                          GPtrArray  *revocations,
                                          GError    **error);

/* Asks @tsa for a time-stamp over @cms's signature value and adds it
 * (imzala_cades_add_signature_time_stamp()). */
void    imzala_cades_time_stamp_async  (GBytes              *cms,
                                        ImzalaTsaClient     *tsa,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GBytes *imzala_cades_time_stamp_finish (GAsyncResult        *result,
                                        GError             **error);


/* ---- Reaching a level over the network (imzala-cades-extend.c) ---- */

/* Makes @cms (a CAdES-BES with one signer) into @level: for T and XL the
 * signature-time-stamp from @tsa; for XL then the status of every
 * certificate of the signer's chain (OCSP from the AIA, else the CRL; the
 * issuers from the CMS's certificates, else their AIA caIssuers URLs) and
 * the certificates, as references and values, so that the result verifies
 * offline. All or nothing: any step that fails fails the whole, with a
 * sentence saying that the signature was not completed. Errors:
 * IMZALA_ERROR_TIMESTAMP, IMZALA_ERROR_TLS, IMZALA_ERROR_CERTIFICATE_REVOKED
 * (the card's certificate, or one above it, is revoked),
 * IMZALA_ERROR_STATUS_UNKNOWN, IMZALA_ERROR_UNTRUSTED (the chain cannot be
 * completed), G_IO_ERROR_CANCELLED. BES returns @cms itself. */
void    imzala_cades_extend_async  (GBytes              *cms,
                                    ImzalaCadesLevel     level,
                                    ImzalaTsaClient     *tsa,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
GBytes *imzala_cades_extend_finish (GAsyncResult        *result,
                                    GError             **error);

G_END_DECLS
