/* imzala-portal-pki.h: the demo CA's status and time-stamping services.
 *
 * The portal is a small PKI (docs/protocol.md §11.1): besides the CA of
 * imzala-portal-ca.c it has a delegated OCSP signer and an RFC 3161 TSA,
 * whose keys and certificates are made at first start into <state>/pki.
 * This object makes the CRL and the OCSP answers from the store's
 * certificate table (so a revocation counts at once), answers time-stamp
 * queries with OpenSSL's TS_RESP_CTX, and tells the acceptance check the
 * status of a signer's certificate. The HTTP side is
 * imzala-portal-pki-api.c.
 */
#pragma once

#include <glib-object.h>
#include <openssl/x509.h>

#include "imzala-portal-ca.h"
#include "imzala-portal-store.h"

G_BEGIN_DECLS

/* The reference portal's demo time-stamping policy (a UUID OID, X.667). */
#define IMZALA_PORTAL_TSA_POLICY "2.25.59601230959495850842836317110049736348.1"

#define IMZALA_TYPE_PORTAL_PKI (imzala_portal_pki_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalPki, imzala_portal_pki, IMZALA, PORTAL_PKI, GObject)

ImzalaPortalPki *imzala_portal_pki_load_or_create (const char        *state_dir,
                                                   ImzalaPortalCa    *ca,
                                                   ImzalaPortalStore *store,
                                                   GError           **error);

/* A serial number as the store keeps it: upper-case hex. */
char            *imzala_portal_pki_serial_hex     (const ASN1_INTEGER *serial);
/* Records @cert (issued by the portal's CA) in the store's certificate
 * table; @tckn NULL for a service's certificate. */
gboolean         imzala_portal_pki_record         (ImzalaPortalStore *store,
                                                   X509              *cert,
                                                   const char        *tckn,
                                                   GError           **error);

/* CRL reason codes by their RFC 5280 names ("keyCompromise", ...); -1 for
 * an unknown name. */
int              imzala_portal_pki_reason_from_name (const char *name);
const char      *imzala_portal_pki_reason_to_name   (int reason);

/* DER of the issuing CA's and the root's certificates. */
GBytes          *imzala_portal_pki_get_ca_der     (ImzalaPortalPki *self);
GBytes          *imzala_portal_pki_get_root_der   (ImzalaPortalPki *self);
/* A new CRL (DER) of the issuing CA, from the store's revocations now. */
GBytes          *imzala_portal_pki_make_crl       (ImzalaPortalPki *self,
                                                   GError         **error);
/* Writes that CRL to <state>/pki/ca.crl. */
gboolean         imzala_portal_pki_write_crl      (ImzalaPortalPki *self,
                                                   GError         **error);
/* An OCSP response (DER) to @request: always an answer, malformedRequest
 * or internalError included; NULL only when not even that could be made. */
GBytes          *imzala_portal_pki_answer_ocsp    (ImzalaPortalPki *self,
                                                   GBytes          *request);
/* An RFC 3161 TimeStampResp (DER) to @query, a rejection included; NULL
 * when OpenSSL could not make one. */
GBytes          *imzala_portal_pki_answer_tsa     (ImzalaPortalPki *self,
                                                   GBytes          *query);

X509            *imzala_portal_pki_get_issuing_x509 (ImzalaPortalPki *self); /* borrowed */

G_END_DECLS
