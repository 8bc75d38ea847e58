/* imzala-test-pki.h: throwaway certificates and keys made in memory.
 *
 * The SoftHSM fixture keeps no private keys outside its tokens, so tests that
 * need a key in hand (to sign at the callback level, to build CMS files that
 * İmzala itself would never build, or to make certificates with unusual
 * extensions) make their own with OpenSSL. Nothing is written to disk.
 */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "imzala-core.h"

G_BEGIN_DECLS

/* QCStatements with QcCompliance only, as an extension value in hex DER. */
#define IMZALA_TEST_QC_COMPLIANCE "300A3008060604008E460101"

typedef struct
{
  const char *common_name;
  const char *serial_number;     /* subject serialNumber (2.5.4.5), nullable */
  const char *key;               /* "rsa2048", "p256" or "p384" */
  gboolean    ca;
  const char *key_usage;         /* OpenSSL config syntax, e.g. "critical,nonRepudiation"; nullable */
  const char *qc_statements_hex; /* extension value in hex DER, nullable */
  gint64      not_before;        /* Unix time; 0 means a day ago */
  gint64      not_after;         /* Unix time; 0 means in a year */
  /* Issue 10: where the status and the issuer are published. */
  const char *ocsp_url;          /* AIA OCSP, nullable */
  const char *ca_issuers_url;    /* AIA caIssuers, nullable */
  const char *crl_url;           /* CRL distribution point, nullable */
  const char *extended_key_usage; /* OpenSSL config syntax, e.g. "OCSPSigning"; nullable */
  long        serial;            /* 0: the next one of a counter */
} ImzalaTestCertSpec;

typedef struct
{
  EVP_PKEY *key;
  X509     *x509;
} ImzalaTestIdentity;

/* Makes a key and a certificate; @issuer NULL means self-signed. */
ImzalaTestIdentity *imzala_test_identity_new  (const ImzalaTestCertSpec *spec,
                                               ImzalaTestIdentity       *issuer);
void                imzala_test_identity_free (ImzalaTestIdentity *self);
ImzalaCertificate  *imzala_test_identity_certificate (ImzalaTestIdentity *self);
/* An X509_STORE trusting @self. */
X509_STORE         *imzala_test_identity_store (ImzalaTestIdentity *self);

/* An ImzalaCmsSignFunc; @user_data is an ImzalaTestIdentity. RSA PKCS#1 v1.5
 * or a DER ECDSA-Sig-Value, as a token returns them. */
GBytes *imzala_test_identity_sign (GBytes       *to_be_signed,
                                   ImzalaDigest  digest,
                                   gpointer      user_data,
                                   GCancellable *cancellable,
                                   GError      **error);

/* Issue 10: writes @self's certificate to @dir/@name.pem and its key to
 * @dir/@name.key (PEM), for OpenSSL's command-line tools. */
void imzala_test_identity_write (ImzalaTestIdentity *self,
                                 const char         *dir,
                                 const char         *name);
/* The certificate as DER bytes. */
GBytes *imzala_test_identity_der (ImzalaTestIdentity *self);

/* Issue 10: a small PKI with real status services, made at test time. A CA,
 * an OCSP responder certificate it delegates (id-kp-OCSPSigning), the
 * index of the issued certificates (OpenSSL's `ca` database), `openssl ocsp
 * -index` running as the responder, a CRL made by `openssl ca -gencrl`, and
 * an HTTP server on its own thread serving /ca.crt (DER) and /ca.crl (DER).
 * The index is fixed when the PKI is made (the OpenSSL 3.0 responder reads
 * it once), so every certificate the test will issue is named up front. */
typedef struct
{
  long        serial;
  const char *common_name;
  gint64      revoked_at;   /* Unix time; 0: not revoked */
  const char *reason;       /* e.g. "keyCompromise"; nullable */
} ImzalaTestPkiEntry;

typedef struct _ImzalaTestPki ImzalaTestPki;

struct _ImzalaTestPki
{
  char               *dir;        /* a temporary folder with every file */
  ImzalaTestIdentity *ca;
  ImzalaTestIdentity *responder;  /* the delegated OCSP signer */
  char               *ocsp_url;
  char               *crl_url;
  char               *ca_url;     /* AIA caIssuers: the CA's DER certificate */
  GBytes             *crl;        /* DER */
  /* private */
  GSubprocess        *ocsp_process;
  GThread            *server_thread;
  GMainContext       *server_context;
  GMainLoop          *server_loop;
  gpointer            server;
  guint               server_port;
  GMutex              lock;
  GCond               ready;
};

ImzalaTestPki      *imzala_test_pki_new   (const ImzalaTestPkiEntry *entries,
                                           gsize                     n_entries);
void                imzala_test_pki_free  (ImzalaTestPki *self);
/* Issues a certificate from @spec (whose serial must be one of the entries)
 * with the PKI's AIA (OCSP and caIssuers) and CRL distribution point. */
ImzalaTestIdentity *imzala_test_pki_issue (ImzalaTestPki            *self,
                                           const ImzalaTestCertSpec *spec);
/* The CA's certificate as a X509_STORE. */
X509_STORE         *imzala_test_pki_store (ImzalaTestPki *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaTestPki, imzala_test_pki_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaTestIdentity, imzala_test_identity_free)

G_END_DECLS
