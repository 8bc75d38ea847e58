/* imzala-cert-status.h: a certificate's revocation status, from OCSP or a CRL.
 *
 * Status evidence comes either embedded (the bytes of an OCSP response or a
 * CRL that a signature carries) or fetched (the certificate's AIA OCSP URL,
 * else its CRL distribution points, over libsoup with a size and a total
 * time cap). Either way it is checked the same way: the response or CRL is
 * signed by the certificate's issuer (or, for OCSP, by a responder the
 * issuer delegated with id-kp-OCSPSigning), names this certificate, is not
 * from the future, and is fresh enough for the time asked about.
 *
 * The status is asked "at" a time: the time a time-stamp proves, else now.
 * A certificate revoked after that time was good at it; a revocation at or
 * before it makes it revoked. Pure OpenSSL and libsoup: no PKCS#11, no GTK.
 */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef enum
{
  IMZALA_CERT_STATUS_GOOD,
  IMZALA_CERT_STATUS_REVOKED,
  IMZALA_CERT_STATUS_UNKNOWN, /* no evidence could be had or trusted */
} ImzalaCertStatusValue;

typedef enum
{
  IMZALA_CERT_STATUS_SOURCE_NONE,
  IMZALA_CERT_STATUS_SOURCE_OCSP,
  IMZALA_CERT_STATUS_SOURCE_CRL,
} ImzalaCertStatusSource;

typedef enum /*< flags >*/
{
  IMZALA_CERT_STATUS_FLAGS_NONE    = 0,
  /* Never fetch anything: only embedded evidence counts. */
  IMZALA_CERT_STATUS_OFFLINE       = 1 << 0,
  /* Do not fall back to the CRL distribution points when OCSP fails. */
  IMZALA_CERT_STATUS_NO_CRL        = 1 << 1,
  /* Do not ask the OCSP responder (CRLs only). */
  IMZALA_CERT_STATUS_NO_OCSP       = 1 << 2,
} ImzalaCertStatusFlags;

/* Caps on what a fetch may cost. */
#define IMZALA_CERT_STATUS_MAX_OCSP_SIZE   (64 * 1024)
#define IMZALA_CERT_STATUS_MAX_CRL_SIZE    (16 * 1024 * 1024)
#define IMZALA_CERT_STATUS_TIMEOUT_SECONDS 15
/* Clocks differ: a response up to this far in the future is accepted. */
#define IMZALA_CERT_STATUS_CLOCK_SKEW_SECONDS (5 * 60)

typedef struct
{
  ImzalaCertStatusValue  status;
  ImzalaCertStatusSource source;
  GDateTime             *revocation_time;  /* set when the certificate was ever revoked */
  int                    revocation_reason; /* CRL reason code, -1 when none */
  GDateTime             *this_update;
  GDateTime             *next_update;      /* nullable */
  GDateTime             *produced_at;      /* OCSP only */
  char                  *url;              /* where it was fetched from; NULL when embedded */
  /* The DER evidence (OCSP response or CRL) the answer rests on, so that a
   * signer can embed it (revocation-values). */
  GBytes                *evidence;
  /* The OCSP responder's or CRL issuer's certificate (the issuer itself or
   * a delegated responder), owned. */
  X509                  *evidence_signer;
  /* For UNKNOWN: a translated sentence saying why. */
  char                  *reason;
} ImzalaCertStatus;

void imzala_cert_status_free (ImzalaCertStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaCertStatus, imzala_cert_status_free)

/* The status value's name, for --json and logs: "good", "revoked", "unknown". */
const char *imzala_cert_status_value_to_string (ImzalaCertStatusValue value);
/* "ocsp", "crl" or "none". */
const char *imzala_cert_status_source_to_string (ImzalaCertStatusSource source);

/* A DER OCSPRequest for @cert issued by @issuer (SHA-1 CertID, as RFC 5019
 * responders expect), with a fresh nonce when @nonce is not NULL (the nonce's
 * bytes are returned there). */
GBytes *imzala_cert_status_build_ocsp_request (X509     *cert,
                                               X509     *issuer,
                                               GBytes  **nonce,
                                               GError  **error);

/* Checks a DER OCSPResponse about @cert (issued by @issuer) at @at (NULL:
 * now). @request_nonce, when not NULL, must be echoed if the responder
 * echoes a nonce at all. Returns NULL with an error only when the response
 * cannot be used (malformed, wrong signer, not about @cert, not fresh);
 * "revoked" and "unknown by the responder" are results. */
ImzalaCertStatus *imzala_cert_status_check_ocsp (GBytes    *response,
                                                 X509      *cert,
                                                 X509      *issuer,
                                                 GDateTime *at,
                                                 GBytes    *request_nonce,
                                                 GError   **error);

/* Checks a CRL (DER or PEM) issued by @issuer about @cert at @at (NULL:
 * now). Errors as for imzala_cert_status_check_ocsp(). */
ImzalaCertStatus *imzala_cert_status_check_crl (GBytes    *crl,
                                                X509      *cert,
                                                X509      *issuer,
                                                GDateTime *at,
                                                GError   **error);

/* The status from the first usable piece of @evidence (DER OCSP responses
 * and CRLs, GBytes, nullable) about @cert; else, unless
 * IMZALA_CERT_STATUS_OFFLINE, fetched from the AIA OCSP URLs, then the CRL
 * distribution points. Never fails: when nothing can be established the
 * status is UNKNOWN with a reason. Blocking; call it from a thread. */
ImzalaCertStatus *imzala_cert_status_get (X509                  *cert,
                                          X509                  *issuer,
                                          GDateTime             *at,
                                          GPtrArray             *evidence,
                                          ImzalaCertStatusFlags  flags,
                                          GCancellable          *cancellable);
/* imzala_cert_status_get() with @extra_ca (nullable) as one more anchor
 * for the https status services (imzala_cert_status_fetch_url_full()). */
ImzalaCertStatus *imzala_cert_status_get_full (X509                  *cert,
                                               X509                  *issuer,
                                               GDateTime             *at,
                                               GPtrArray             *evidence,
                                               ImzalaCertStatusFlags  flags,
                                               GTlsDatabase          *extra_ca,
                                               GCancellable          *cancellable);

/* imzala_cert_status_get() in a thread; the result comes back on the
 * caller's main context. */
void              imzala_cert_status_get_async  (X509                  *cert,
                                                 X509                  *issuer,
                                                 GDateTime             *at,
                                                 GPtrArray             *evidence,
                                                 ImzalaCertStatusFlags  flags,
                                                 GCancellable          *cancellable,
                                                 GAsyncReadyCallback    callback,
                                                 gpointer               user_data);
ImzalaCertStatus *imzala_cert_status_get_finish (GAsyncResult *result,
                                                 GError      **error);

/* Fetches @url (http or https) with the caps above and returns the body.
 * @content_type and @body make it a POST; NULL makes it a GET. Used for
 * OCSP, CRLs and the AIA caIssuers certificates. TLS is always verified. */
GBytes *imzala_cert_status_fetch_url (const char   *url,
                                      const char   *content_type,
                                      GBytes       *body,
                                      gsize         max_size,
                                      GCancellable *cancellable,
                                      GError      **error);

/* As imzala_cert_status_fetch_url(), and an https server whose certificate
 * the system store does not know is also accepted when it chains to
 * @extra_ca (nullable; the portal's CA, whose demo PKI serves OCSP, CRLs
 * and CA certificates over https). */
GBytes *imzala_cert_status_fetch_url_full (const char   *url,
                                           const char   *content_type,
                                           GBytes       *body,
                                           gsize         max_size,
                                           GTlsDatabase *extra_ca,
                                           GCancellable *cancellable,
                                           GError      **error);

G_END_DECLS
