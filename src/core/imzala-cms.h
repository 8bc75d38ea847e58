/* imzala-cms.h: CAdES-BES CMS SignedData, built and verified with OpenSSL 3.0.
 *
 * The builder never touches a private key: it makes the SignerInfo with the
 * certificate's public key standing in (CMS_PARTIAL), adds the signed
 * attributes by hand (contentType, messageDigest, signingTime, ESS
 * signing-certificate-v2), has the DER SET OF attributes signed by a
 * callback (a token: imzala_token_sign_cms(); or an OpenSSL key in the
 * tests), puts the signature in, and verifies the result again before
 * returning it. Pure OpenSSL: nothing here knows PKCS#11.
 */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

#include "imzala-certificate.h"
#include "imzala-digest.h"

G_BEGIN_DECLS

typedef enum /*< flags >*/
{
  IMZALA_CMS_NONE     = 0,
  IMZALA_CMS_DETACHED = 1 << 0, /* leave the content out of the SignedData */
} ImzalaCmsFlags;

/* Signs @to_be_signed (the DER SET OF signed attributes) hashing with
 * @digest; returns RSA PKCS#1 v1.5 bytes or a DER ECDSA-Sig-Value. */
typedef GBytes *(*ImzalaCmsSignFunc) (GBytes       *to_be_signed,
                                      ImzalaDigest  digest,
                                      gpointer      user_data,
                                      GCancellable *cancellable,
                                      GError      **error);

/* Builds a CAdES-BES SignedData (DER) over @content. @extra_certificates
 * (ImzalaCertificate, nullable) are added to the certificate set (the CA
 * certificates on the token). @signing_time NULL means now. */
GBytes *imzala_cms_sign (ImzalaCertificate *signer,
                         GPtrArray         *extra_certificates,
                         GBytes            *content,
                         ImzalaCmsFlags     flags,
                         GDateTime         *signing_time,
                         ImzalaCmsSignFunc  sign_func,
                         gpointer           sign_data,
                         GCancellable      *cancellable,
                         GError           **error);

/* ---- Verification ---- */

typedef enum /*< flags >*/
{
  IMZALA_VERIFY_NONE                  = 0,
  /* Do not require the ESS signing-certificate-v2 attribute (plain CMS). */
  IMZALA_VERIFY_ALLOW_NO_SIGNING_CERT = 1 << 0,
} ImzalaVerifyFlags;

typedef struct
{
  ImzalaCertificate *signer;
  GDateTime         *signing_time;   /* from the signed attributes */
  GBytes            *content;        /* the content that was signed */
  ImzalaDigest       digest;
  gboolean           detached;
  gboolean           has_signing_certificate_v2;
} ImzalaVerifyResult;

void imzala_verify_result_free (ImzalaVerifyResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaVerifyResult, imzala_verify_result_free)

/* Loads the PEM certificates in @path as trust anchors. */
X509_STORE *imzala_cms_load_trust_file (const char *path, GError **error);

/* Verifies one CMS SignedData (DER or PEM) with exactly one signer: the
 * signature, the content digest (against @detached_content when the CMS has
 * none), a chain to @trust using the certificates in the CMS, validity at the
 * signing time, and signing-certificate-v2 naming the signer. Errors:
 * CMS_INVALID, SIGNATURE_INVALID, CONTENT_MISMATCH, UNTRUSTED,
 * CERTIFICATE_EXPIRED, SIGNING_CERTIFICATE_MISMATCH. */
ImzalaVerifyResult *imzala_cms_verify (GBytes            *cms,
                                       GBytes            *detached_content,
                                       X509_STORE        *trust,
                                       ImzalaVerifyFlags  flags,
                                       GError           **error);

G_END_DECLS
