/* imzala-portal-ca.h: the demo portal's own certification authority.
 *
 * On first start the portal makes, in <state>/ca, a root CA ("İmzala Demo
 * Kök SM"), an issuing CA ("İmzala Demo NES SM") and a TLS server
 * certificate for localhost, 127.0.0.1 and ::1, all with the OpenSSL C API.
 * Later starts load them. The same issuing CA signs the NES-profile
 * certificates of the demo cards made by enrolment, and the certificates
 * of the portal's OCSP responder and TSA (imzala-portal-pki.c), with
 * AIA and CRL distribution point URLs to the portal. Nothing here is ever
 * committed: it is made at run time in the state directory.
 */
#pragma once

#include <glib-object.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_PORTAL_CA (imzala_portal_ca_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalCa, imzala_portal_ca, IMZALA, PORTAL_CA, GObject)

/* Loads the CA from @state_dir/ca, making it first if it does not exist. */
ImzalaPortalCa *imzala_portal_ca_load_or_create (const char *state_dir,
                                                 GError    **error);

/* PEM of the root certificate: what clients trust (`--portal-ca`). */
const char *imzala_portal_ca_get_root_file        (ImzalaPortalCa *self);
/* PEM of the issuing CA certificate. */
const char *imzala_portal_ca_get_issuing_file     (ImzalaPortalCa *self);
/* TLS server certificate chain (server + issuing CA) and its key. */
const char *imzala_portal_ca_get_tls_cert_file    (ImzalaPortalCa *self);
const char *imzala_portal_ca_get_tls_key_file     (ImzalaPortalCa *self);
X509       *imzala_portal_ca_get_issuing_x509     (ImzalaPortalCa *self); /* borrowed */

/* A new trust store: the root as anchor, the issuing CA as chain helper,
 * plus every certificate in @extra_files (PEM, nullable). */
X509_STORE *imzala_portal_ca_new_trust_store (ImzalaPortalCa     *self,
                                              const char * const *extra_files,
                                              GError            **error);

/* Issues an NES-profile certificate (C=TR, serialNumber=@tckn, CN=@name,
 * keyUsage critical nonRepudiation, qcStatements QcCompliance) for @key,
 * valid from yesterday for @days days. */
X509 *imzala_portal_ca_issue_person (ImzalaPortalCa *self,
                                     EVP_PKEY       *key,
                                     const char     *tckn,
                                     const char     *name,
                                     guint           days,
                                     GError        **error);

/* The issuing CA's key (borrowed): it signs the CRL. */
EVP_PKEY   *imzala_portal_ca_get_issuing_key      (ImzalaPortalCa *self);
X509       *imzala_portal_ca_get_root_x509        (ImzalaPortalCa *self); /* borrowed */

/* The origin ("https://host:port") that the authorityInfoAccess and
 * cRLDistributionPoints URLs of the certificates issued from now on name:
 * the one last set with @remember (kept in <state>/ca/public-url), else
 * https://localhost:8443. */
const char *imzala_portal_ca_get_public_url       (ImzalaPortalCa *self);
gboolean    imzala_portal_ca_set_public_url       (ImzalaPortalCa *self,
                                                   const char     *url,
                                                   gboolean        remember,
                                                   GError        **error);

typedef enum
{
  IMZALA_PORTAL_CA_SERVICE_OCSP, /* delegated OCSP signer: OCSPSigning, ocsp-nocheck */
  IMZALA_PORTAL_CA_SERVICE_TSA,  /* RFC 3161 TSA: timeStamping, critical */
} ImzalaPortalCaService;

/* Issues the certificate of one of the portal's PKI services for @key. */
X509       *imzala_portal_ca_issue_service        (ImzalaPortalCa        *self,
                                                   EVP_PKEY              *key,
                                                   ImzalaPortalCaService  service,
                                                   const char            *common_name,
                                                   guint                  days,
                                                   GError               **error);

G_END_DECLS
