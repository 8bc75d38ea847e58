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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaTestIdentity, imzala_test_identity_free)

G_END_DECLS
