/* imzala-trust.h: the certificates a verification trusts, and the issuers it
 * may fetch.
 *
 * Trust comes from files and folders the user names (PEM with any number
 * of certificates, or one DER certificate, as Turkish CAs publish them as
 * `.crt`; a folder's *.pem, *.crt, *.cer and *.der files). Every certificate
 * given is trusted as it is, a root or an issuing CA alike (OpenSSL's
 * partial chains): the user decides which CAs to trust, and a Turkish NES
 * issuing CA is often all they have. Missing intermediates are fetched from
 * a certificate's AIA caIssuers URL (capped, cached for the life of the
 * object) unless the trust is offline. Thread-safe: a verifier uses it from
 * its worker thread.
 */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "imzala-certificate.h"
#include "imzala-cert-status.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_TRUST (imzala_trust_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaTrust, imzala_trust, IMZALA, TRUST, GObject)

/* A caIssuers answer (a certificate or a PKCS#7 bundle) larger than this is
 * refused. */
#define IMZALA_TRUST_MAX_ISSUER_SIZE (256 * 1024)

ImzalaTrust *imzala_trust_new              (void);
/* Adds the certificates in a file or a folder. Fails when there is none. */
gboolean     imzala_trust_add_path         (ImzalaTrust  *self,
                                            const char   *path,
                                            GError      **error);
void         imzala_trust_add_x509         (ImzalaTrust  *self,
                                            X509         *x509);
/* Adds every certificate of @store (for callers that have an X509_STORE). */
void         imzala_trust_add_store        (ImzalaTrust  *self,
                                            X509_STORE   *store);
guint        imzala_trust_get_n_certificates (ImzalaTrust *self);
void         imzala_trust_set_offline      (ImzalaTrust  *self,
                                            gboolean      offline);
gboolean     imzala_trust_get_offline      (ImzalaTrust  *self);
/* A CA (nullable) also trusted, besides the system store, for the TLS of
 * the https fetches (caIssuers, OCSP, CRLs): a portal whose demo PKI
 * serves them under its own CA. The answers are checked as always. */
void          imzala_trust_set_fetch_ca    (ImzalaTrust  *self,
                                            GTlsDatabase *fetch_ca);
GTlsDatabase *imzala_trust_get_fetch_ca    (ImzalaTrust  *self);

/* A new store holding the trusted certificates, for chains checked at
 * @when, with partial chains allowed. With an issued function
 * (imzala_trust_set_issued_func()), every X509_verify_cert() on it
 * verifies the signatures and validity periods as OpenSSL does except
 * for the one signature the authority vouches for; the store then holds
 * a reference to @self. */
X509_STORE  *imzala_trust_new_store        (ImzalaTrust  *self,
                                            time_t        when);
/* The trusted certificates (a new stack of new references). */
STACK_OF (X509) *imzala_trust_dup_certificates (ImzalaTrust *self);
/* @x509 as an ImzalaCertificate (a new reference): for one of the trust's
 * own X509s, the same object each time. */
ImzalaCertificate *imzala_trust_describe       (ImzalaTrust  *self,
                                                X509         *x509);
/* The trust's own X509 whose DER is exactly @der (a new reference), or
 * NULL: a certificate a signature carries that the trust holds already
 * need not be parsed again. */
X509            *imzala_trust_lookup_der       (ImzalaTrust  *self,
                                                const guint8 *der,
                                                gsize         size);

/* The certificates found at @cert's AIA caIssuers URLs (a new stack, maybe
 * empty); nothing when offline. Cached by URL. Blocking. */
STACK_OF (X509) *imzala_trust_fetch_issuers (ImzalaTrust  *self,
                                             X509         *cert,
                                             GCancellable *cancellable);

/* ---- Certification authorities the user adds (İmza Doğrula) ----
 *
 * The window's verify page adds a CA the user chose to the user's own
 * trust folder, one DER file per certificate named by its SHA-256
 * fingerprint, and lists and removes them; the page never parses a
 * certificate itself. These are plain functions on files (blocking, small:
 * a certificate file is read up to 4 MiB). */

/* $XDG_DATA_HOME/imzala/trust: the folder the verify page trusts after
 * IMZALA_TRUST_DIRS and before /etc/imzala/trust. */
char              *imzala_trust_get_user_dir        (void);
/* The one CA certificate in @path (PEM or DER, .crt/.cer/.pem/.der).
 * Errors (IMZALA_ERROR_CERTIFICATE_INVALID, with a sentence for the user):
 * no certificate, more than one, or one that is not a CA's;
 * IMZALA_ERROR_FAILED when the file cannot be read. */
ImzalaCertificate *imzala_trust_read_authority      (const char         *path,
                                                     GError            **error);
/* The same in a thread, for a window: the file the user chose may sit on a
 * slow or network folder. */
void               imzala_trust_read_authority_async  (const char          *path,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
ImzalaCertificate *imzala_trust_read_authority_finish (GAsyncResult        *result,
                                                       GError             **error);
/* Copies @authority into @dir (made 0700 when missing) as
 * "<fingerprint>.crt", DER, mode 0644, written atomically. Returns the
 * path written. */
char              *imzala_trust_install_authority   (ImzalaCertificate  *authority,
                                                     const char         *dir,
                                                     GError            **error);
/* The certificates in @dir's certificate files (ImzalaCertificate, by
 * name); an empty array when there is no such folder. */
GPtrArray         *imzala_trust_list_authorities    (const char         *dir);
/* Removes from @dir the files that hold only the certificate whose
 * fingerprint (lower-case hex SHA-256, as imzala_certificate_get_fingerprint())
 * is @fingerprint. IMZALA_ERROR_NO_CERTIFICATE when there is none. */
gboolean           imzala_trust_remove_authority    (const char         *dir,
                                                     const char         *fingerprint,
                                                     GError            **error);
/* A TLS database of the CA certificates in @path (the portal's or the
 * time-stamp server's CA, a status service's): PEM, DER or a DER PKCS#7
 * bundle (.pem, .crt, .cer, .der, .p7b), as a CA publishes them. GIO's
 * file database reads PEM only, so any other form is made PEM and read
 * from $XDG_CACHE_HOME/imzala/ca/<SHA-256 of the file>.pem (0600), written
 * there unless it already holds exactly that PEM. NULL with a G_IO_ERROR or IMZALA_ERROR for the debug log:
 * each caller says what the file was for. Blocking (at most 4 MiB read). */
GTlsDatabase      *imzala_trust_new_tls_database    (const char         *path,
                                                     GError            **error);

/* A status authority the trust knows besides the evidence: a portal that
 * is its own CA answers for the certificates it issued from its own
 * records. Called from the verifying thread (the function must be
 * thread-safe) for each certificate whose status is asked, with @issuer
 * (the verifier asks along a chain it verified: @issuer signed @cert),
 * the time @at the status is asked for (NULL: now) and the DER OCSP
 * responses and CRLs the signature carries (@evidence, nullable). Returns
 * the status (the same conventions as imzala_cert_status_get(): a
 * revocation after @at is GOOD with revocation_time set), or NULL to leave
 * the certificate to the embedded and fetched evidence. */
typedef ImzalaCertStatus *(*ImzalaTrustStatusFunc) (X509      *cert,
                                                    X509      *issuer,
                                                    GDateTime *at,
                                                    GPtrArray *evidence,
                                                    gpointer   user_data);

/* Set it before the trust is shared with other threads. */
void              imzala_trust_set_status_func (ImzalaTrust           *self,
                                                ImzalaTrustStatusFunc  func,
                                                gpointer               user_data,
                                                GDestroyNotify         destroy);
/* The trust's authority (a portal that is its own CA) vouches that
 * @issuer's key signed @cert: the authority issued @cert and holds its
 * bytes, and @cert is byte for byte what it issued. Called from the
 * verifying thread (thread-safe) for a chain's signer certificate and
 * the certificate above it; TRUE leaves that one signature unverified,
 * every other check of the chain is made as always (issue 12: an ECDSA
 * P-384 verification, most of a submission's check). */
typedef gboolean (*ImzalaTrustIssuedFunc) (X509    *cert,
                                           X509    *issuer,
                                           gpointer user_data);

/* Set it before the trust is shared with other threads. */
void              imzala_trust_set_issued_func (ImzalaTrust           *self,
                                                ImzalaTrustIssuedFunc  func,
                                                gpointer               user_data,
                                                GDestroyNotify         destroy);

/* The status of @cert: the status function's answer when it gives one,
 * else imzala_cert_status_get_full() over @evidence, fetching unless the
 * trust is offline, with the trust's fetch CA. Never NULL. Blocking. */
ImzalaCertStatus *imzala_trust_get_cert_status (ImzalaTrust  *self,
                                                X509         *cert,
                                                X509         *issuer,
                                                GDateTime    *at,
                                                GPtrArray    *evidence,
                                                GCancellable *cancellable);

G_END_DECLS
